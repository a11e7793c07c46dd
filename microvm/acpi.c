/* ACPI table layout and checksums: RSDP -> XSDT -> {FADT -> DSDT, MADT}, all
 * built in one buffer for a fixed guest-physical base (0xe0000 in the guest). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "microvm/acpi.h"
#include "microvm/vm.h"
#include "microvm/vm_internal.h"

#define ACPI_HEADER_LEN 36
#define FADT_LEN 276
#define FADT_FLAG_PWR_BUTTON (1u << 4)
#define FADT_FLAG_SLP_BUTTON (1u << 5)
#define FADT_FLAG_RESET_REG_SUP (1u << 10)
#define FADT_FLAG_HW_REDUCED (1u << 20)
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1u << 5)
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)(0 - sum);
}

static void header_write(uint8_t *t, const char sig[4], uint32_t len, uint8_t revision)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = revision;
    memcpy(t + 10, "VESSEL", 6);
    memcpy(t + 16, "VESSELVM", 8);
    put32(t + 24, 1);           /* OEM revision */
    memcpy(t + 28, "VSSL", 4);  /* creator ID */
    put32(t + 32, 1);           /* creator revision */
}

static void table_finish(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = checksum(t, len);
}

static void gas_io(uint8_t *g, uint16_t port)
{
    g[0] = GAS_SYSTEM_IO;
    g[1] = 8;   /* bit width */
    g[2] = 0;   /* bit offset */
    g[3] = GAS_ACCESS_BYTE;
    put64(g + 4, port);
}

static size_t fadt_write(uint8_t *t, uint64_t dsdt_gpa)
{
    memset(t, 0, FADT_LEN);
    header_write(t, "FACP", FADT_LEN, 6);
    put32(t + 40, (uint32_t)dsdt_gpa);
    put16(t + 109, BOOT_ARCH_VGA_NOT_PRESENT | BOOT_ARCH_CMOS_RTC_NOT_PRESENT);  /* and no 8042 */
    put32(t + 112, FADT_FLAG_HW_REDUCED | FADT_FLAG_RESET_REG_SUP | FADT_FLAG_PWR_BUTTON | FADT_FLAG_SLP_BUTTON);
    gas_io(t + 116, VM_PORT_RESET);
    t[128] = 1;                 /* reset value */
    t[131] = 0;                 /* FADT minor version */
    put64(t + 140, dsdt_gpa);   /* X_DSDT */
    gas_io(t + 244, VM_PORT_SLEEP_CONTROL);
    gas_io(t + 256, VM_PORT_SLEEP_STATUS);
    memcpy(t + 268, "VESSELVM", 8);  /* hypervisor vendor identity */
    table_finish(t, FADT_LEN);
    return FADT_LEN;
}

static size_t madt_len(uint32_t ncpus)
{
    return ACPI_HEADER_LEN + 8 + (size_t)ncpus * 8 + 12 + 6;
}

static size_t madt_write(uint8_t *t, uint32_t ncpus)
{
    size_t len = madt_len(ncpus);
    memset(t, 0, len);
    header_write(t, "APIC", (uint32_t)len, 5);
    put32(t + 36, (uint32_t)VM_LAPIC_ADDR);
    put32(t + 40, 1);  /* PCAT_COMPAT: the in-kernel 8259 pair exists */
    uint8_t *e = t + 44;
    for (uint32_t i = 0; i < ncpus; i++, e += 8) {
        e[0] = 0;  /* processor local APIC */
        e[1] = 8;
        e[2] = (uint8_t)i;  /* ACPI processor UID */
        e[3] = (uint8_t)i;  /* APIC ID */
        put32(e + 4, 1);    /* enabled */
    }
    e[0] = 1;  /* I/O APIC */
    e[1] = 12;
    e[2] = (uint8_t)ncpus;  /* an ID no LAPIC uses */
    put32(e + 4, (uint32_t)VM_IOAPIC_ADDR);
    put32(e + 8, 0);        /* GSI base */
    e += 12;
    e[0] = 4;  /* local APIC NMI: LINT1 of every processor */
    e[1] = 6;
    e[2] = 0xff;
    put16(e + 3, 0);
    e[5] = 1;
    table_finish(t, (uint32_t)len);
    return len;
}

int acpi_build(const struct acpi_config *cfg, uint64_t base_gpa, uint8_t *buf, size_t cap,
               struct acpi_layout *layout, struct vessel_error **err)
{
    if (cfg->ncpus == 0 || cfg->ncpus > 255)
        return vessel_error_set(err, EINVAL, "ACPI tables: %u CPUs", cfg->ncpus);
    uint8_t *aml = NULL;
    size_t aml_len = 0;
    int r = acpi_dsdt_aml(cfg, &aml, &aml_len, err);
    if (r < 0)
        return r;
    /* Layout, each table 16-byte aligned: RSDP, XSDT, FADT, MADT, DSDT. */
    size_t off[ACPI_NTABLES], len[ACPI_NTABLES];
    len[ACPI_RSDP] = 36;
    len[ACPI_XSDT] = ACPI_HEADER_LEN + 2 * 8;
    len[ACPI_FADT] = FADT_LEN;
    len[ACPI_MADT] = madt_len(cfg->ncpus);
    len[ACPI_DSDT] = ACPI_HEADER_LEN + aml_len;
    size_t pos = 0;
    for (int i = 0; i < ACPI_NTABLES; i++) {
        off[i] = pos;
        pos = (pos + len[i] + 15) & ~(size_t)15;
    }
    if (pos > cap) {
        free(aml);
        return vessel_error_set(err, E2BIG, "ACPI tables need %zu bytes, more than the %zu reserved", pos, cap);
    }
    memset(buf, 0, pos);

    uint8_t *dsdt = buf + off[ACPI_DSDT];
    header_write(dsdt, "DSDT", (uint32_t)len[ACPI_DSDT], 2);
    memcpy(dsdt + ACPI_HEADER_LEN, aml, aml_len);
    free(aml);
    table_finish(dsdt, (uint32_t)len[ACPI_DSDT]);

    fadt_write(buf + off[ACPI_FADT], base_gpa + off[ACPI_DSDT]);
    madt_write(buf + off[ACPI_MADT], cfg->ncpus);

    uint8_t *xsdt = buf + off[ACPI_XSDT];
    header_write(xsdt, "XSDT", (uint32_t)len[ACPI_XSDT], 1);
    put64(xsdt + ACPI_HEADER_LEN, base_gpa + off[ACPI_FADT]);
    put64(xsdt + ACPI_HEADER_LEN + 8, base_gpa + off[ACPI_MADT]);
    table_finish(xsdt, (uint32_t)len[ACPI_XSDT]);

    uint8_t *rsdp = buf + off[ACPI_RSDP];
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "VESSEL", 6);
    rsdp[15] = 2;  /* revision: ACPI 2.0+, XSDT */
    put32(rsdp + 16, 0);  /* no RSDT */
    put32(rsdp + 20, 36);
    put64(rsdp + 24, base_gpa + off[ACPI_XSDT]);
    rsdp[8] = checksum(rsdp, 20);
    rsdp[32] = checksum(rsdp, 36);

    static const char *const names[ACPI_NTABLES] = {"RSDP", "XSDT", "FACP", "APIC", "DSDT"};
    for (int i = 0; i < ACPI_NTABLES; i++)
        layout->tables[i] = (struct acpi_table_ref){.name = names[i], .offset = off[i], .len = len[i]};
    layout->total = pos;
    return 0;
}
