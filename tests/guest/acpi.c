/* Test guest ACPI: RSDP -> XSDT/RSDT -> FADT -> DSDT, an AML byte scan for the
 * LNRO0005 resources and \_S5, and power-off. Every table is length-checked. */
#include "acpi.h"

struct sdt_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));

static const struct sdt_header *fadt, *dsdt;

static bool checksum_ok(const void *p, uint32_t len)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + ((const uint8_t *)p)[i]);
    return sum == 0;
}

static const struct sdt_header *table_at(uint64_t addr)
{
    if (addr == 0 || addr >= (1ULL << 32))
        return 0;
    const struct sdt_header *h = (const void *)(uintptr_t)addr;
    if (h->length < sizeof(*h) || h->length > (1u << 20) || !checksum_ok(h, h->length))
        return 0;
    return h;
}

static uint64_t rsdp_scan(void)
{
    for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
        if (memcmp((const void *)(uintptr_t)a, "RSD PTR ", 8) == 0 &&
            checksum_ok((const void *)(uintptr_t)a, 20))
            return a;
    return 0;
}

bool acpi_init(uint64_t rsdp_hint)
{
    uint64_t rsdp_addr = rsdp_hint != 0 ? rsdp_hint : rsdp_scan();
    if (rsdp_addr == 0)
        return false;
    const uint8_t *rsdp = (const void *)(uintptr_t)rsdp_addr;
    if (memcmp(rsdp, "RSD PTR ", 8) != 0 || !checksum_ok(rsdp, 20))
        return false;
    uint8_t revision = rsdp[15];
    uint32_t rsdt_addr;
    uint64_t xsdt_addr = 0;
    memcpy(&rsdt_addr, rsdp + 16, 4);
    if (revision >= 2)
        memcpy(&xsdt_addr, rsdp + 24, 8);
    const struct sdt_header *root = table_at(xsdt_addr != 0 ? xsdt_addr : rsdt_addr);
    if (root == 0)
        return false;
    unsigned entry = xsdt_addr != 0 ? 8 : 4;
    unsigned n = (root->length - sizeof(*root)) / entry;
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = 0;
        memcpy(&a, (const uint8_t *)root + sizeof(*root) + i * entry, entry);
        const struct sdt_header *t = table_at(a);
        if (t != 0 && memcmp(t->signature, "FACP", 4) == 0)
            fadt = t;
    }
    if (fadt == 0 || fadt->length < 44)
        return false;
    uint64_t dsdt_addr = 0;
    if (fadt->length >= 148)
        memcpy(&dsdt_addr, (const uint8_t *)fadt + 140, 8);
    if (dsdt_addr == 0)
        memcpy(&dsdt_addr, (const uint8_t *)fadt + 40, 4);
    dsdt = table_at(dsdt_addr);
    return dsdt != 0 && memcmp(dsdt->signature, "DSDT", 4) == 0;
}

/* Resources of one device: the first Memory32Fixed and interrupt after its _HID, within
 * the bytes before the next device's _HID. */
static bool parse_resources(const uint8_t *p, const uint8_t *end, struct mmio_window *w)
{
    bool have_mem = false, have_irq = false;
    for (; p + 12 <= end && !(have_mem && have_irq); p++) {
        if (!have_mem && p[0] == 0x86 && p[1] == 0x09 && p[2] == 0x00) {
            uint32_t base;
            memcpy(&base, p + 4, 4);
            w->base = base;
            have_mem = true;
            p += 11;
        } else if (!have_irq && have_mem && p[0] == 0x89 && p[1] >= 6 && p[2] == 0 && p[4] >= 1) {
            memcpy(&w->irq, p + 5, 4); /* Extended Interrupt: first interrupt number */
            have_irq = true;
        } else if (!have_irq && have_mem && (p[0] == 0x22 || p[0] == 0x23)) {
            uint16_t mask; /* IRQ descriptor: lowest bit of the mask */
            memcpy(&mask, p + 1, 2);
            for (uint32_t i = 0; i < 16 && mask != 0; i++)
                if (mask & (1u << i)) {
                    w->irq = i;
                    have_irq = true;
                    break;
                }
        }
    }
    return have_mem;
}

unsigned acpi_virtio_windows(struct mmio_window *w, unsigned max)
{
    if (dsdt == 0)
        return 0;
    const uint8_t *aml = (const uint8_t *)dsdt + sizeof(*dsdt);
    const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
    unsigned n = 0;
    for (const uint8_t *p = aml; p + 8 <= end && n < max; p++) {
        if (memcmp(p, "LNRO0005", 8) != 0)
            continue;
        const uint8_t *next = p + 8;
        while (next + 8 <= end && memcmp(next, "LNRO0005", 8) != 0)
            next++;
        if (next + 8 > end)
            next = end;
        w[n].irq = 0;
        if (parse_resources(p + 8, next, &w[n]))
            n++;
        p = next - 1;
    }
    return n;
}

/* SLP_TYPa of \_S5: Name(_S5_, Package(){a, b, ...}). */
static uint8_t s5_sleep_type(void)
{
    const uint8_t *aml = (const uint8_t *)dsdt + sizeof(*dsdt);
    const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
    for (const uint8_t *p = aml; p + 10 <= end; p++) {
        if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12)
            continue;
        const uint8_t *q = p + 5;
        q += 1 + (q[0] >> 6); /* PkgLength */
        q++;                  /* NumElements */
        if (q >= end)
            break;
        if (q[0] == 0x0a && q + 1 < end)
            return q[1];
        if (q[0] == 0x00 || q[0] == 0x01)
            return q[0];
        return q[0] & 7;
    }
    return 5;
}

void acpi_power_off(void)
{
    if (fadt == 0 || dsdt == 0)
        return;
    const uint8_t *f = (const uint8_t *)fadt;
    uint8_t slp_typ = s5_sleep_type();
    uint32_t flags = 0;
    if (fadt->length >= 116)
        memcpy(&flags, f + 112, 4);
    bool hw_reduced = (flags & (1u << 20)) != 0;
    if (fadt->length >= 256) {
        uint64_t addr;
        memcpy(&addr, f + 244 + 4, 8);
        uint8_t space = f[244];
        uint8_t v = (uint8_t)(((slp_typ & 7) << 2) | 0x20);
        if (addr != 0 && space == 1 && addr < 0x10000)
            outb((uint16_t)addr, v);
        else if (addr != 0 && space == 0)
            mmio_write8(addr, v);
    }
    if (!hw_reduced) {
        uint32_t pm1a;
        memcpy(&pm1a, f + 64, 4);
        if (pm1a != 0 && pm1a < 0x10000)
            outw((uint16_t)pm1a, (uint16_t)((slp_typ << 10) | (1u << 13)));
    }
}
