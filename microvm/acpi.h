/* ACPI tables for the guest, built in a buffer at a given guest-physical base:
 * RSDP, XSDT, FADT (hardware-reduced, sleep control/status and reset registers on
 * I/O ports the VMM traps), MADT (a LAPIC per vCPU, the IOAPIC), and a DSDT whose
 * AML lists COM1 and one LNRO0005 (virtio-mmio) device per slot, plus \_S5. */
#ifndef VESSEL_MICROVM_ACPI_H
#define VESSEL_MICROVM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct acpi_config {
    uint32_t ncpus;
    uint32_t nslots;          /* virtio-mmio slots 0..nslots-1 (VM_VIRTIO_MMIO_* layout) */
};

enum { ACPI_RSDP, ACPI_XSDT, ACPI_FADT, ACPI_MADT, ACPI_DSDT, ACPI_NTABLES };

struct acpi_table_ref {
    const char *name;         /* file stem for dumps: "RSDP", "XSDT", "FACP", "APIC", "DSDT" */
    size_t offset;            /* into the buffer */
    size_t len;
};

struct acpi_layout {
    struct acpi_table_ref tables[ACPI_NTABLES];
    size_t total;
};

/* Build every table into buf (cap bytes) as it will sit at guest-physical base_gpa. */
int acpi_build(const struct acpi_config *cfg, uint64_t base_gpa, uint8_t *buf, size_t cap,
               struct acpi_layout *layout, struct vessel_error **err);

/* The DSDT's AML body (after the table header) into a new malloc'd buffer. */
int acpi_dsdt_aml(const struct acpi_config *cfg, uint8_t **aml, size_t *len, struct vessel_error **err);

#endif
