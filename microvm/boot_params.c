/* The zero page (struct boot_params) for the 64-bit boot protocol: setup header,
 * command line, initrd, e820 memory map, ACPI RSDP address, and setup_data carrying
 * an RNG seed so the guest kernel starts with entropy. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "microvm/boot.h"
#include "microvm/vm_internal.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static void e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
    uint8_t n = bp[BP_E820_ENTRIES];
    if (size == 0 || n >= BP_E820_MAX)
        return;
    uint8_t *e = bp + BP_E820_TABLE + 20 * n;
    put64(e, addr);
    put64(e + 8, size);
    put32(e + 16, type);
    bp[BP_E820_ENTRIES] = (uint8_t)(n + 1);
}

static void setup_data_rng_seed(struct vm *vm, uint8_t *bp)
{
    /* struct setup_data { u64 next; u32 type; u32 len; u8 data[]; } */
    uint8_t *sd = vm_guest_ptr(vm, VM_SETUP_DATA_ADDR, 16 + 32);
    if (sd == NULL)
        return;
    uint8_t seed[32];
    ssize_t n;
    do
        n = getrandom(seed, sizeof(seed), GRND_NONBLOCK);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(seed))
        return;  /* no entropy yet: the guest gathers its own */
    put64(sd, 0);
    put32(sd + 8, SETUP_RNG_SEED);
    put32(sd + 12, sizeof(seed));
    memcpy(sd + 16, seed, sizeof(seed));
    explicit_bzero(seed, sizeof(seed));
    put64(bp + BP_SETUP_DATA, VM_SETUP_DATA_ADDR);
}

int boot_params_write(struct vm *vm, const char *cmdline, uint64_t rsdp_addr, struct vessel_error **err)
{
    uint8_t *bp = vm_guest_ptr(vm, VM_ZERO_PAGE_ADDR, BP_SIZE);
    if (bp == NULL)
        return vessel_error_set(err, EINVAL, "guest RAM too small for the zero page");
    memset(bp, 0, BP_SIZE);

    if (vm->is_bzimage) {
        memcpy(bp + BP_HDR, vm->bz_setup_header, sizeof(vm->bz_setup_header));
    } else {
        /* An ELF vmlinux has no setup header: write what the kernel reads from one. */
        put16(bp + BP_BOOT_FLAG, 0xaa55);
        put32(bp + BP_HEADER, HDR_MAGIC);
        put16(bp + BP_VERSION, 0x020f);
        put32(bp + BP_KERNEL_ALIGNMENT, 0x1000000);
        put32(bp + BP_CMDLINE_SIZE, BOOT_ELF_CMDLINE_MAX);
    }
    bp[BP_TYPE_OF_LOADER] = 0xff;  /* undefined loader */
    bp[BP_LOADFLAGS] |= LOADFLAG_LOADED_HIGH | LOADFLAG_CAN_USE_HEAP;
    put16(bp + BP_HEAP_END_PTR, 0xfe00);
    put16(bp + BP_VID_MODE, 0xffff);  /* "normal" */

    size_t len = cmdline ? strlen(cmdline) : 0;
    if (len > vm->cmdline_limit)
        return boot_cmdline_check(vm, cmdline, err);
    char *dst = vm_guest_ptr(vm, VM_CMDLINE_ADDR, len + 1);
    if (dst == NULL)
        return vessel_error_set(err, EINVAL, "guest RAM too small for the command line");
    memcpy(dst, cmdline ? cmdline : "", len);
    dst[len] = '\0';
    put32(bp + BP_CMD_LINE_PTR, (uint32_t)VM_CMDLINE_ADDR);
    put32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(VM_CMDLINE_ADDR >> 32));

    if (vm->initrd_size > 0) {
        put32(bp + BP_RAMDISK_IMAGE, (uint32_t)vm->initrd_addr);
        put32(bp + BP_RAMDISK_SIZE, (uint32_t)vm->initrd_size);
        put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(vm->initrd_addr >> 32));
        put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(vm->initrd_size >> 32));
    }

    /* Below 1 MiB: RAM up to the EBDA, then the BIOS area (with our ACPI tables). */
    e820_add(bp, 0, VM_EBDA_START, E820_RAM);
    e820_add(bp, VM_EBDA_START, VM_HIGH_MEMORY - VM_EBDA_START, E820_RESERVED);
    e820_add(bp, VM_HIGH_MEMORY, vm->low_size - VM_HIGH_MEMORY, E820_RAM);
    e820_add(bp, VM_4G, vm->high_size, E820_RAM);

    put64(bp + BP_ACPI_RSDP_ADDR, rsdp_addr);
    setup_data_rng_seed(vm, bp);
    return 0;
}
