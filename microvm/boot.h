/* Boot loader of the builtin VMM: ELF vmlinux (64-bit entry, PVH note noticed) and
 * bzImage (x86 boot protocol >= 2.12, 64-bit entry), initrd placement, and the zero
 * page (boot_params with the setup header, e820 map, command line, setup_data). */
#ifndef VESSEL_MICROVM_BOOT_H
#define VESSEL_MICROVM_BOOT_H

#include <stdint.h>

#include "common/error.h"

struct vm;

/* Offsets into struct boot_params (the "zero page"), per Documentation/arch/x86/zero-page.rst. */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR 0x1f1
#define BP_SETUP_SECTS 0x1f1
#define BP_VID_MODE 0x1fa
#define BP_BOOT_FLAG 0x1fe
#define BP_JUMP 0x200
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_HEAP_END_PTR 0x224
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_KERNEL_ALIGNMENT 0x230
#define BP_RELOCATABLE 0x234
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_SETUP_DATA 0x250
#define BP_PREF_ADDRESS 0x258
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define BP_SIZE 0x1000

#define HDR_MAGIC 0x53726448u        /* "HdrS" */
#define LOADFLAG_LOADED_HIGH 0x01
#define LOADFLAG_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01
#define E820_RAM 1
#define E820_RESERVED 2
#define SETUP_RNG_SEED 9

#define BOOT_ELF_CMDLINE_MAX 2047    /* x86 COMMAND_LINE_SIZE - 1 */

/* Load the kernel image at `path` into guest RAM; sets the VM's entry point, kernel
 * end, format and command-line limit. */
int boot_kernel_load(struct vm *vm, const char *path, struct vessel_error **err);

/* Place the initrd at the highest page-aligned address the kernel accepts. */
int boot_initrd_load(struct vm *vm, const char *path, struct vessel_error **err);

/* Check a command line against the loaded kernel's limit. */
int boot_cmdline_check(const struct vm *vm, const char *cmdline, struct vessel_error **err);

/* Write the zero page at VM_ZERO_PAGE_ADDR, the command line, the e820 map and an
 * RNG-seed setup_data entry. */
int boot_params_write(struct vm *vm, const char *cmdline, uint64_t rsdp_addr, struct vessel_error **err);

#endif
