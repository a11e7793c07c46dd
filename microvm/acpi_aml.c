/* A small AML encoder for the DSDT: Scope(\_SB) with COM1 and one LNRO0005
 * (virtio-mmio) Device per slot (_HID, _UID, _CRS with Memory32Fixed and an
 * edge/active-high Interrupt), and the \_S5 sleep package used for power-off. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/acpi.h"
#include "microvm/vm.h"

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT 0x5b
#define AML_DEVICE 0x82
#define AML_ROOT 0x5c

struct aml {
    uint8_t *data;
    size_t len, cap;
    bool oom;
};

static void aml_free(struct aml *a)
{
    free(a->data);
    a->data = NULL;
    a->len = a->cap = 0;
}

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
    if (a->oom)
        return;
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        while (cap < a->len + n)
            cap *= 2;
        uint8_t *d = realloc(a->data, cap);
        if (d == NULL) {
            a->oom = true;
            return;
        }
        a->data = d;
        a->cap = cap;
    }
    memcpy(a->data + a->len, p, n);
    a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
    aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* A NameSeg (4 chars, padded with '_') or a rooted path "\NAME". */
static void aml_name(struct aml *a, const char *name)
{
    if (name[0] == '\\') {
        aml_byte(a, AML_ROOT);
        name++;
    }
    char seg[4] = {'_', '_', '_', '_'};
    for (size_t i = 0; i < 4 && name[i] != '\0'; i++)
        seg[i] = name[i];
    aml_bytes(a, seg, 4);
}

static void aml_integer(struct aml *a, uint64_t v)
{
    if (v == 0)
        aml_byte(a, AML_ZERO);
    else if (v == 1)
        aml_byte(a, AML_ONE);
    else if (v <= 0xff) {
        aml_byte(a, AML_BYTE);
        aml_le(a, v, 1);
    } else if (v <= 0xffff) {
        aml_byte(a, AML_WORD);
        aml_le(a, v, 2);
    } else if (v <= 0xffffffff) {
        aml_byte(a, AML_DWORD);
        aml_le(a, v, 4);
    } else {
        aml_byte(a, AML_QWORD);
        aml_le(a, v, 8);
    }
}

static void aml_string(struct aml *a, const char *s)
{
    aml_byte(a, AML_STRING);
    aml_bytes(a, s, strlen(s) + 1);
}

/* PkgLength counts itself: 1 byte up to 63, else 2-4 bytes (low nibble first). */
static void aml_pkg_length(struct aml *a, size_t body)
{
    if (body + 1 <= 0x3f) {
        aml_byte(a, (uint8_t)(body + 1));
        return;
    }
    unsigned n = body + 2 <= 0xfff ? 2 : body + 3 <= 0xfffff ? 3 : 4;
    size_t total = body + n;
    aml_byte(a, (uint8_t)(((n - 1) << 6) | (total & 0xf)));
    for (unsigned i = 1; i < n; i++)
        aml_byte(a, (uint8_t)(total >> (4 + 8 * (i - 1))));
}

/* opcode(s) PkgLength body: Scope, Device, Buffer, Package. */
static void aml_wrap(struct aml *a, const uint8_t *op, size_t oplen, struct aml *body)
{
    if (body->oom)
        a->oom = true;
    aml_bytes(a, op, oplen);
    aml_pkg_length(a, body->len);
    aml_bytes(a, body->data, body->len);
    aml_free(body);
}

/* Name(NAME, Buffer(){resource template + end tag}) */
static void aml_name_resources(struct aml *a, const char *name, const uint8_t *res, size_t len)
{
    struct aml buf = {0};
    aml_integer(&buf, len + 2);
    aml_bytes(&buf, res, len);
    aml_byte(&buf, 0x79);  /* end tag */
    aml_byte(&buf, 0x00);  /* checksum 0: "treat as valid" */
    aml_byte(a, AML_NAME);
    aml_name(a, name);
    const uint8_t op = AML_BUFFER;
    aml_wrap(a, &op, 1, &buf);
}

static void aml_device_com1(struct aml *sb)
{
    struct aml dev = {0};
    aml_name(&dev, "COM1");
    aml_byte(&dev, AML_NAME);
    aml_name(&dev, "_HID");
    aml_byte(&dev, AML_DWORD);
    aml_le(&dev, 0x0105d041, 4);  /* EisaId("PNP0501"): 16550-compatible UART */
    aml_byte(&dev, AML_NAME);
    aml_name(&dev, "_UID");
    aml_integer(&dev, 1);
    const uint8_t res[] = {
        0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,  /* IO(Decode16, 0x3f8, 0x3f8, 1, 8) */
        0x22, 0x10, 0x00,                                /* IRQNoFlags(){4} */
    };
    aml_name_resources(&dev, "_CRS", res, sizeof(res));
    const uint8_t op[] = {AML_EXT, AML_DEVICE};
    aml_wrap(sb, op, sizeof(op), &dev);
}

static void aml_device_virtio(struct aml *sb, uint32_t slot)
{
    uint64_t base = VM_VIRTIO_MMIO_BASE + slot * VM_VIRTIO_MMIO_STRIDE;
    uint32_t gsi = VM_VIRTIO_FIRST_GSI + slot;
    char name[8];
    snprintf(name, sizeof(name), "V%03X", slot & 0xfff);
    struct aml dev = {0};
    aml_name(&dev, name);
    aml_byte(&dev, AML_NAME);
    aml_name(&dev, "_HID");
    aml_string(&dev, "LNRO0005");
    aml_byte(&dev, AML_NAME);
    aml_name(&dev, "_UID");
    aml_integer(&dev, slot);
    uint8_t res[12 + 9];
    /* Memory32Fixed(ReadWrite, base, 0x200) */
    res[0] = 0x86;
    res[1] = 9;
    res[2] = 0;
    res[3] = 0x01;
    for (int i = 0; i < 4; i++) {
        res[4 + i] = (uint8_t)(base >> (8 * i));
        res[8 + i] = (uint8_t)(VM_VIRTIO_MMIO_SIZE >> (8 * i));
    }
    /* Interrupt(ResourceConsumer, Edge, ActiveHigh, Exclusive) {gsi} */
    res[12] = 0x89;
    res[13] = 6;
    res[14] = 0;
    res[15] = 0x03;  /* consumer, edge-triggered, active high, exclusive */
    res[16] = 1;
    for (int i = 0; i < 4; i++)
        res[17 + i] = (uint8_t)(gsi >> (8 * i));
    aml_name_resources(&dev, "_CRS", res, sizeof(res));
    const uint8_t op[] = {AML_EXT, AML_DEVICE};
    aml_wrap(sb, op, sizeof(op), &dev);
}

int acpi_dsdt_aml(const struct acpi_config *cfg, uint8_t **out, size_t *len, struct vessel_error **err)
{
    struct aml top = {0}, sb = {0};
    aml_name(&sb, "\\_SB_");
    aml_device_com1(&sb);
    for (uint32_t i = 0; i < cfg->nslots; i++)
        aml_device_virtio(&sb, i);
    const uint8_t scope = AML_SCOPE;
    aml_wrap(&top, &scope, 1, &sb);

    /* Name(\_S5, Package(4){SLP_TYPa, SLP_TYPb, 0, 0}) */
    struct aml pkg = {0};
    aml_byte(&pkg, 4);
    aml_integer(&pkg, VM_ACPI_SLP_TYP_S5);
    aml_integer(&pkg, VM_ACPI_SLP_TYP_S5);
    aml_integer(&pkg, 0);
    aml_integer(&pkg, 0);
    aml_byte(&top, AML_NAME);
    aml_name(&top, "\\_S5_");
    const uint8_t package = AML_PACKAGE;
    aml_wrap(&top, &package, 1, &pkg);

    if (top.oom) {
        aml_free(&top);
        return vessel_error_set(err, ENOMEM, "building the DSDT");
    }
    *out = top.data;
    *len = top.len;
    return 0;
}
