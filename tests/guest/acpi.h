/* Test guest ACPI: find the tables, the virtio-mmio windows (LNRO0005 devices in the
 * DSDT) and power off through the FADT. */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include "lib.h"

struct mmio_window {
    uint64_t base;
    uint32_t irq;
};
#define MAX_WINDOWS 32

/* rsdp_hint: from boot_params or PVH start info, 0 to scan the BIOS area. Returns false
 * when no usable RSDP/FADT/DSDT is found. */
bool acpi_init(uint64_t rsdp_hint);
/* LNRO0005 devices of the DSDT; returns how many were stored in w (at most max). */
unsigned acpi_virtio_windows(struct mmio_window *w, unsigned max);
/* ACPI S5 through the FADT sleep control register (or PM1a control). Returns if it failed. */
void acpi_power_off(void);

#endif
