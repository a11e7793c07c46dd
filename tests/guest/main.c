/* Test guest main: read the command line, find the virtio-mmio devices (ACPI DSDT or
 * mmio=BASE:IRQ,... on the command line), run every case, report TAP on the serial port,
 * then power off (ACPI S5) or report failures through the debug exit port 0x501. */
#include "acpi.h"
#include "cases.h"

#define EXIT_PORT 0x501

static const char *cmdline_from(uint64_t boot_params, uint64_t pvh)
{
    uint64_t p = 0;
    if (boot_params != 0) {
        uint32_t lo, hi;
        memcpy(&lo, (const void *)(uintptr_t)(boot_params + 0x228), 4);
        memcpy(&hi, (const void *)(uintptr_t)(boot_params + 0x0c8), 4);
        p = lo | ((uint64_t)hi << 32);
    } else if (pvh != 0) {
        memcpy(&p, (const void *)(uintptr_t)(pvh + 24), 8);
    }
    return p != 0 ? (const char *)(uintptr_t)p : "";
}

static uint64_t rsdp_from(uint64_t boot_params, uint64_t pvh)
{
    uint64_t p = 0;
    if (boot_params != 0)
        memcpy(&p, (const void *)(uintptr_t)(boot_params + 0x070), 8);
    else if (pvh != 0)
        memcpy(&p, (const void *)(uintptr_t)(pvh + 32), 8);
    return p;
}

/* Whether the command line holds word (space separated); *value gets what follows '='. */
static bool cmdline_word(const char *cmdline, const char *word, const char **value)
{
    size_t n = strlen(word);
    for (const char *p = cmdline; *p;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, word, n) == 0 && (p[n] == 0 || p[n] == ' ' || p[n] == '=')) {
            if (value != 0)
                *value = p[n] == '=' ? p + n + 1 : p + n;
            return true;
        }
        while (*p && *p != ' ')
            p++;
    }
    return false;
}

static unsigned windows_from_cmdline(const char *s, struct mmio_window *w, unsigned max)
{
    unsigned n = 0;
    while (n < max && *s && *s != ' ') {
        w[n].base = parse_num(&s);
        w[n].irq = 0;
        if (*s == ':') {
            s++;
            w[n].irq = (uint32_t)parse_num(&s);
        }
        n++;
        if (*s != ',')
            break;
        s++;
    }
    return n;
}

static __attribute__((noreturn)) void finish(void)
{
    unsigned failed = tap_failures();
    gprintf("1..%u\n", tap_count());
    gprintf("# %u failed\n", failed);
    if (failed != 0)
        outb(EXIT_PORT, (uint8_t)(failed > 255 ? 255 : failed));
    acpi_power_off();
    outb(EXIT_PORT, 0);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void guest_main(uint64_t boot_params, uint64_t pvh);
void guest_main(uint64_t boot_params, uint64_t pvh)
{
    serial_init();
    const char *cmdline = cmdline_from(boot_params, pvh);
    bool acpi_ok = acpi_init(rsdp_from(boot_params, pvh));
    if (cmdline_word(cmdline, "exit", 0)) {
        acpi_power_off();
        outb(EXIT_PORT, 0);
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    gprintf("# vessel test guest, command line \"%s\"\n", cmdline);
    tap_result(acpi_ok, "ACPI tables found (RSDP, XSDT, FADT, DSDT)");

    struct mmio_window win[MAX_WINDOWS];
    const char *map;
    unsigned nwin = cmdline_word(cmdline, "mmio", &map) && *map ? windows_from_cmdline(map, win, MAX_WINDOWS)
                                                                : acpi_virtio_windows(win, MAX_WINDOWS);
    tap_result(nwin > 0, "virtio-mmio windows found (%u)", nwin);

    static struct vdev devs[MAX_WINDOWS];
    struct vdev *console = 0, *rng = 0, *blk_rw = 0, *blk_ro = 0;
    for (unsigned i = 0; i < nwin; i++) {
        struct vdev *d = &devs[i];
        d->base = win[i].base;
        d->irq = win[i].irq;
        if (vd_r(d, R_MAGIC) != 0x74726976)
            continue;
        d->version = vd_r(d, R_VERSION);
        d->id = vd_r(d, R_DEVICE_ID);
        gprintf("# virtio-mmio at 0x%lx irq %u: version %u device %u\n", (unsigned long)d->base, d->irq,
                d->version, d->id);
        if (d->version != 2 || d->id == 0)
            continue; /* legacy transport or empty slot */
        vd_w(d, R_DEV_FEATURES_SEL, 0);
        bool ro = (vd_r(d, R_DEV_FEATURES) & (1u << 5)) != 0;
        if (d->id == VIRTIO_ID_CONSOLE && console == 0)
            console = d;
        else if (d->id == VIRTIO_ID_RNG && rng == 0)
            rng = d;
        else if (d->id == VIRTIO_ID_BLOCK && ro && blk_ro == 0)
            blk_ro = d;
        else if (d->id == VIRTIO_ID_BLOCK && !ro && blk_rw == 0)
            blk_rw = d;
    }
    tap_result(console != 0, "virtio-console present");
    tap_result(blk_rw != 0, "virtio-blk (read-write) present");
    tap_result(blk_ro != 0, "virtio-blk (read-only) present");
    tap_result(rng != 0, "virtio-rng present");
    if (console != 0)
        cases_console(console);
    if (blk_rw != 0)
        cases_blk(blk_rw);
    if (blk_ro != 0)
        cases_blk(blk_ro);
    if (rng != 0)
        cases_rng(rng);
    /* nohostile: for runs on other VMMs (QEMU), whose refusals take other forms */
    if (rng != 0 && blk_rw != 0 && !cmdline_word(cmdline, "nohostile", 0))
        cases_hostile(rng, blk_rw);
    finish();
}
