/* Unit tests for the builtin VMM's pure parts: guest-memory bounds checks, the ACPI
 * tables and AML, kernel/initrd loading (ELF and bzImage, including hostile files),
 * the zero page, the exit-status mapping, and the guest CPUID table. Guest RAM is a plain buffer here; the
 * KVM side is exercised by tests/integration/vmm.bats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "microvm/acpi.h"
#include "microvm/boot.h"
#include "microvm/vm_internal.h"
#include "microvm/vmm_cli.h"

#define LOW (8ULL << 20)
#define HIGH (1ULL << 20)

static struct vm *fake_vm(uint64_t low, uint64_t high)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    assert_non_null(vm);
    vm->mem = calloc(1, low + high);
    assert_non_null(vm->mem);
    vm->mem_size = low + high;
    vm->low_size = low;
    vm->high_size = high;
    vm->mem_fd = -1;
    vm->nvcpus = 1;
    return vm;
}

static void fake_vm_free(struct vm *vm)
{
    free(vm->mem);
    free(vm);
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static void test_guest_ptr_bounds(void **state)
{
    (void)state;
    struct vm *vm = fake_vm(LOW, HIGH);
    assert_ptr_equal(vm_guest_ptr(vm, 0, 1), vm->mem);
    assert_ptr_equal(vm_guest_ptr(vm, LOW - 4, 4), vm->mem + LOW - 4);
    assert_null(vm_guest_ptr(vm, 0, 0));                     /* empty ranges are refused */
    assert_null(vm_guest_ptr(vm, LOW - 4, 5));               /* straddles the end of low RAM */
    assert_null(vm_guest_ptr(vm, LOW, 1));                   /* the hole */
    assert_null(vm_guest_ptr(vm, VM_VIRTIO_MMIO_BASE, 4));
    assert_ptr_equal(vm_guest_ptr(vm, VM_4G, HIGH), vm->mem + LOW);
    assert_null(vm_guest_ptr(vm, VM_4G, HIGH + 1));
    assert_null(vm_guest_ptr(vm, VM_4G + HIGH, 1));
    assert_null(vm_guest_ptr(vm, UINT64_MAX, 1));
    assert_null(vm_guest_ptr(vm, 16, UINT64_MAX));           /* length that wraps */
    assert_null(vm_guest_ptr(vm, UINT64_MAX - 8, 16));
    assert_null(vm_guest_ptr(vm, VM_4G + 16, UINT64_MAX - 8));
    assert_null(vm_guest_ptr(NULL, 0, 1));
    assert_int_equal(vm_ram_size(vm), LOW + HIGH);
    fake_vm_free(vm);
}

static size_t count_substr(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s), c = 0;
    for (size_t i = 0; i + k <= n; i++)
        c += memcmp(p + i, s, k) == 0;
    return c;
}

/* Decode an AML PkgLength at p; returns the encoded length and its byte count. */
static size_t pkg_length(const uint8_t *p, unsigned *nbytes)
{
    unsigned n = (p[0] >> 6) + 1;
    size_t len = n == 1 ? (p[0] & 0x3f) : (p[0] & 0x0f);
    for (unsigned i = 1; i < n; i++)
        len |= (size_t)p[i] << (4 + 8 * (i - 1));
    *nbytes = n;
    return len;
}

static void test_dsdt_aml(void **state)
{
    (void)state;
    for (uint32_t slots = 0; slots <= VM_VIRTIO_MAX_SLOTS; slots += 4) {
        struct acpi_config cfg = {.ncpus = 2, .nslots = slots};
        uint8_t *aml = NULL;
        size_t len = 0;
        assert_int_equal(acpi_dsdt_aml(&cfg, &aml, &len, NULL), 0);
        assert_int_equal(count_substr(aml, len, "LNRO0005"), slots);
        assert_int_equal(count_substr(aml, len, "COM1"), 1);
        /* Scope(\_SB) spans exactly up to Name(\_S5, ...): the PkgLength is right in
         * both its one-byte (no slots) and multi-byte forms. */
        assert_int_equal(aml[0], 0x10);
        unsigned nb;
        size_t scope_len = pkg_length(aml + 1, &nb);
        assert_true(slots == 0 ? nb == 1 : nb == 2);
        assert_int_equal(aml[1 + scope_len], 0x08);
        assert_memory_equal(aml + 2 + scope_len, "\\_S5_", 5);
        /* NameOp \_S5_ PackageOp PkgLength NumElements BytePrefix 5 BytePrefix 5 Zero Zero */
        assert_int_equal(1 + scope_len + 1 + 5 + 1 + 1 + 1 + 2 + 2 + 1 + 1, len);
        free(aml);
    }
}

static void test_acpi_tables(void **state)
{
    (void)state;
    static uint8_t buf[VM_ACPI_SIZE];
    struct acpi_config cfg = {.ncpus = 4, .nslots = 3};
    struct acpi_layout l;
    const uint64_t base = VM_ACPI_ADDR;
    assert_int_equal(acpi_build(&cfg, base, buf, sizeof(buf), &l, NULL), 0);
    const uint8_t *rsdp = buf + l.tables[ACPI_RSDP].offset;
    assert_memory_equal(rsdp, "RSD PTR ", 8);
    assert_int_equal(sum8(rsdp, 20), 0);
    assert_int_equal(sum8(rsdp, 36), 0);
    assert_int_equal(rd64(rsdp + 24), base + l.tables[ACPI_XSDT].offset);
    for (int i = ACPI_XSDT; i < ACPI_NTABLES; i++) {
        const uint8_t *t = buf + l.tables[i].offset;
        assert_int_equal(rd32(t + 4), l.tables[i].len);
        assert_int_equal(sum8(t, l.tables[i].len), 0);
        assert_memory_equal(t, l.tables[i].name, 4);
    }
    const uint8_t *xsdt = buf + l.tables[ACPI_XSDT].offset;
    assert_int_equal(rd64(xsdt + 36), base + l.tables[ACPI_FADT].offset);
    assert_int_equal(rd64(xsdt + 44), base + l.tables[ACPI_MADT].offset);
    const uint8_t *fadt = buf + l.tables[ACPI_FADT].offset;
    assert_int_equal(rd64(fadt + 140), base + l.tables[ACPI_DSDT].offset);
    assert_true(rd32(fadt + 112) & (1u << 20));              /* hardware-reduced */
    assert_int_equal(rd64(fadt + 248), VM_PORT_SLEEP_CONTROL);
    const uint8_t *madt = buf + l.tables[ACPI_MADT].offset;
    int lapics = 0;
    for (size_t off = 44; off < l.tables[ACPI_MADT].len; off += madt[off + 1]) {
        assert_true(madt[off + 1] > 0);
        if (madt[off] == 0) {
            assert_int_equal(madt[off + 3], lapics);        /* APIC IDs 0..n-1 */
            lapics++;
        }
    }
    assert_int_equal(lapics, 4);
    /* Too little room, or a CPU count the MADT cannot express, is an error. */
    assert_int_equal(acpi_build(&cfg, base, buf, 64, &l, NULL), -E2BIG);
    cfg.ncpus = 0;
    assert_int_equal(acpi_build(&cfg, base, buf, sizeof(buf), &l, NULL), -EINVAL);
}

static char tmp_path[64];

static void write_tmp(const void *data, size_t len)
{
    strcpy(tmp_path, "/tmp/vessel-test-kernel-XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

struct mini_elf {
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    uint8_t code[16];
};

static struct mini_elf elf_template(void)
{
    struct mini_elf e;
    memset(&e, 0, sizeof(e));
    memcpy(e.eh.e_ident, ELFMAG, SELFMAG);
    e.eh.e_ident[EI_CLASS] = ELFCLASS64;
    e.eh.e_ident[EI_DATA] = ELFDATA2LSB;
    e.eh.e_type = ET_EXEC;
    e.eh.e_machine = EM_X86_64;
    e.eh.e_entry = 0x100004;
    e.eh.e_phoff = offsetof(struct mini_elf, ph);
    e.eh.e_phentsize = sizeof(Elf64_Phdr);
    e.eh.e_phnum = 1;
    e.ph.p_type = PT_LOAD;
    e.ph.p_offset = offsetof(struct mini_elf, code);
    e.ph.p_paddr = 0x100000;
    e.ph.p_filesz = sizeof(e.code);
    e.ph.p_memsz = 0x2000;
    memset(e.code, 0xf4, sizeof(e.code));
    return e;
}

static int load_elf(struct vm *vm, const struct mini_elf *e, struct vessel_error **err)
{
    write_tmp(e, sizeof(*e));
    int r = boot_kernel_load(vm, tmp_path, err);
    unlink(tmp_path);
    return r;
}

static void test_elf_load(void **state)
{
    (void)state;
    struct vm *vm = fake_vm(LOW, 0);
    memset(vm->mem + 0x100000, 0xaa, 0x3000);
    struct mini_elf e = elf_template();
    assert_int_equal(load_elf(vm, &e, NULL), 0);
    assert_int_equal(vm->entry, 0x100004);
    assert_int_equal(vm->kernel_end, 0x102000);
    assert_int_equal(vm->mem[0x100000], 0xf4);
    assert_int_equal(vm->mem[0x100010], 0);                  /* bss zeroed */
    assert_int_equal(vm->mem[0x101fff], 0);
    assert_int_equal(vm->mem[0x102000], 0xaa);               /* nothing beyond memsz */
    assert_false(vm->is_bzimage);
    assert_int_equal(vm->cmdline_limit, BOOT_ELF_CMDLINE_MAX);
    fake_vm_free(vm);
}

static void test_elf_hostile(void **state)
{
    (void)state;
    struct vm *vm = fake_vm(LOW, 0);
    struct vessel_error *err = NULL;
    struct mini_elf e;

    e = elf_template(); e.eh.e_phnum = 0xffff;
    assert_int_equal(load_elf(vm, &e, &err), -ENOEXEC);
    e = elf_template(); e.eh.e_phoff = 1ULL << 62;
    assert_int_equal(load_elf(vm, &e, &err), -ENOEXEC);
    e = elf_template(); e.ph.p_offset = UINT64_MAX - 4;
    assert_int_equal(load_elf(vm, &e, &err), -ENOEXEC);
    e = elf_template(); e.ph.p_filesz = 0x3000;              /* more than the file holds */
    assert_int_equal(load_elf(vm, &e, &err), -ENOEXEC);
    e = elf_template(); e.ph.p_memsz = 4;                    /* filesz > memsz */
    assert_int_equal(load_elf(vm, &e, &err), -ENOEXEC);
    e = elf_template(); e.ph.p_paddr = UINT64_MAX - 0x1000;  /* address + size wraps */
    assert_int_equal(load_elf(vm, &e, &err), -EFBIG);
    e = elf_template(); e.ph.p_paddr = LOW - 0x1000;         /* runs past the end of RAM */
    assert_int_equal(load_elf(vm, &e, &err), -EFBIG);
    e = elf_template(); e.ph.p_paddr = 0x7000;               /* over the zero page */
    assert_int_equal(load_elf(vm, &e, &err), -EFBIG);
    e = elf_template(); e.ph.p_memsz = UINT64_MAX;
    assert_int_equal(load_elf(vm, &e, &err), -EFBIG);
    e = elf_template(); e.eh.e_entry = 0x200000;
    assert_int_equal(load_elf(vm, &e, &err), -ENOEXEC);
    e = elf_template(); e.eh.e_machine = EM_386;
    assert_int_equal(load_elf(vm, &e, &err), -ENOEXEC);
    e = elf_template(); e.eh.e_type = ET_DYN;
    assert_int_equal(load_elf(vm, &e, &err), -ENOEXEC);
    vessel_error_free(err);
    fake_vm_free(vm);
}

static void write_bzimage(uint16_t version, uint32_t cmdline_size, size_t pm_size)
{
    size_t setup = 2 * 512, len = setup + pm_size;
    uint8_t *img = calloc(1, len);
    assert_non_null(img);
    img[0x1f1] = 1;
    img[0x1fe] = 0x55, img[0x1ff] = 0xaa;
    img[0x201] = 0x66;
    memcpy(img + 0x202, "HdrS", 4);
    memcpy(img + 0x206, &version, 2);
    img[0x211] = LOADFLAG_LOADED_HIGH;
    uint32_t initrd_max = 0x37ffffff, init_size = 0x200000;
    memcpy(img + 0x22c, &initrd_max, 4);
    img[0x236] = XLF_KERNEL_64;
    memcpy(img + 0x238, &cmdline_size, 4);
    memcpy(img + 0x260, &init_size, 4);
    for (size_t i = 0; i < pm_size; i++)
        img[setup + i] = (uint8_t)(i * 7);
    write_tmp(img, len);
    free(img);
}

static void test_bzimage_load(void **state)
{
    (void)state;
    struct vm *vm = fake_vm(LOW, 0);
    write_bzimage(0x020f, 100, 0x1000);
    assert_int_equal(boot_kernel_load(vm, tmp_path, NULL), 0);
    unlink(tmp_path);
    assert_true(vm->is_bzimage);
    assert_int_equal(vm->entry, 0x100200);
    assert_int_equal(vm->mem[0x100000 + 3], 21);
    assert_int_equal(vm->kernel_end, 0x100000 + 0x200000);   /* init_size, not the file size */
    assert_int_equal(vm->cmdline_limit, 100);
    assert_int_equal(boot_cmdline_check(vm, "short", NULL), 0);
    char lng[102];
    memset(lng, 'x', 101), lng[101] = '\0';
    assert_int_equal(boot_cmdline_check(vm, lng, NULL), -E2BIG);

    struct vessel_error *err = NULL;
    write_bzimage(0x0200, 255, 0x1000);                       /* protocol too old */
    assert_int_equal(boot_kernel_load(vm, tmp_path, &err), -ENOEXEC);
    unlink(tmp_path);
    write_bzimage(0x020f, 255, 0);                            /* no protected-mode part */
    assert_int_equal(boot_kernel_load(vm, tmp_path, &err), -ENOEXEC);
    unlink(tmp_path);
    write_bzimage(0x020f, 255, 0x200);                        /* ends before startup_64 (fuzz) */
    assert_int_equal(boot_kernel_load(vm, tmp_path, &err), -ENOEXEC);
    unlink(tmp_path);
    vessel_error_free(err);
    fake_vm_free(vm);
}

static void test_initrd_and_zero_page(void **state)
{
    (void)state;
    struct vm *vm = fake_vm(LOW, 0);
    struct mini_elf e = elf_template();
    assert_int_equal(load_elf(vm, &e, NULL), 0);
    const char initrd[] = "initrd-content";
    write_tmp(initrd, sizeof(initrd));
    assert_int_equal(boot_initrd_load(vm, tmp_path, NULL), 0);
    assert_int_equal(vm->initrd_addr % 4096, 0);
    assert_true(vm->initrd_addr >= vm->kernel_end);
    assert_true(vm->initrd_addr + vm->initrd_size <= LOW);
    assert_memory_equal(vm->mem + vm->initrd_addr, initrd, sizeof(initrd));
    unlink(tmp_path);

    assert_int_equal(boot_params_write(vm, "console=ttyS0 quiet", VM_ACPI_ADDR, NULL), 0);
    const uint8_t *bp = vm->mem + VM_ZERO_PAGE_ADDR;
    assert_int_equal(rd32(bp + BP_HEADER), HDR_MAGIC);
    assert_int_equal(bp[BP_TYPE_OF_LOADER], 0xff);
    assert_int_equal(rd32(bp + BP_CMD_LINE_PTR), VM_CMDLINE_ADDR);
    assert_string_equal((const char *)vm->mem + VM_CMDLINE_ADDR, "console=ttyS0 quiet");
    assert_int_equal(rd32(bp + BP_RAMDISK_IMAGE), vm->initrd_addr);
    assert_int_equal(rd32(bp + BP_RAMDISK_SIZE), sizeof(initrd));
    assert_int_equal(rd64(bp + BP_ACPI_RSDP_ADDR), VM_ACPI_ADDR);
    /* e820: low RAM, the BIOS hole (with the ACPI tables), RAM from 1 MiB */
    assert_int_equal(bp[BP_E820_ENTRIES], 3);
    const uint8_t *e820 = bp + BP_E820_TABLE;
    assert_int_equal(rd64(e820 + 40), VM_HIGH_MEMORY);
    assert_int_equal(rd64(e820 + 48), LOW - VM_HIGH_MEMORY);
    assert_int_equal(rd32(e820 + 36), E820_RESERVED);
    /* setup_data: one RNG seed */
    uint64_t sd = rd64(bp + BP_SETUP_DATA);
    assert_int_equal(sd, VM_SETUP_DATA_ADDR);
    assert_int_equal(rd32(vm->mem + sd + 8), SETUP_RNG_SEED);
    assert_int_equal(rd32(vm->mem + sd + 12), 32);

    /* An initrd bigger than the room above the kernel is refused. */
    FILE *f = tmpfile();
    assert_non_null(f);
    char fdpath[64];
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fileno(f));
    assert_int_equal(ftruncate(fileno(f), (off_t)LOW), 0);
    struct vessel_error *err = NULL;
    assert_int_equal(boot_initrd_load(vm, fdpath, &err), -EFBIG);
    vessel_error_free(err);
    fclose(f);
    fake_vm_free(vm);
}

static void test_exit_status(void **state)
{
    (void)state;
    struct vm_exit x = {.reason = VM_EXIT_POWEROFF};
    assert_int_equal(vmm_exit_status(&x), 0);
    x.reason = VM_EXIT_EXIT_CODE;
    x.code = 0x1ff;
    assert_int_equal(vmm_exit_status(&x), 0xff);
    x.reason = VM_EXIT_HLT;
    assert_int_equal(vmm_exit_status(&x), VMM_STATUS_HLT);
    x.reason = VM_EXIT_TRIPLE_FAULT;
    assert_int_equal(vmm_exit_status(&x), VMM_STATUS_TRIPLE_FAULT);
    x.reason = VM_EXIT_VMM_ERROR;
    assert_int_equal(vmm_exit_status(&x), VMM_STATUS_VMM_ERROR);
    assert_string_equal(vm_exit_reason_name(VM_EXIT_INTERNAL_ERROR), "internal-error");
}

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == function && c->entries[i].index == 0)
            return &c->entries[i];
    return NULL;
}

/* A KVM-like supported set: a foreign vendor, no TSC-deadline, an empty brand leaf
 * 0x80000002 and no 0x80000003..5 at all. */
static struct kvm_cpuid2 *fake_supported(uint32_t leaf1_ecx, uint32_t brand_eax)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 4 * sizeof(struct kvm_cpuid_entry2));
    assert_non_null(c);
    c->nent = 4;
    c->entries[0] = (struct kvm_cpuid_entry2){.function = 0, .eax = 0xd, .ebx = 0x656b6146, .ecx = 0x59586f64,
                                              .edx = 0x646e6556};  /* "FakeVenddoXY" */
    c->entries[1] = (struct kvm_cpuid_entry2){.function = 1, .ecx = leaf1_ecx};
    c->entries[2] = (struct kvm_cpuid_entry2){.function = 0x80000000, .eax = 0x80000008};
    c->entries[3] = (struct kvm_cpuid_entry2){.function = 0x80000002, .eax = brand_eax};
    return c;
}

static void test_cpuid_table(void **state)
{
    (void)state;
    unsigned a, b, cx, d;
    struct vessel_error *err = NULL;
    struct kvm_cpuid2 *sup = fake_supported(0, 0), *c = NULL;
    struct cpuid_caps caps = {.tsc_deadline = true};
    assert_int_equal(cpuid_table_build(sup, 2, 4, &caps, &c, &err), 0);
    struct kvm_cpuid_entry2 *e = cpuid_find(c, 1);
    assert_non_null(e);
    assert_true(e->ecx & (1u << 24));                 /* TSC-deadline */
    assert_true(e->ecx & (1u << 31));                 /* hypervisor */
    assert_int_equal(e->ebx >> 24, 2);                /* APIC ID */
    assert_int_equal((e->ebx >> 16) & 0xff, 4);       /* logical CPUs */
    /* The vendor is the host's, whatever KVM said. */
    assert_true(__get_cpuid(0, &a, &b, &cx, &d));
    e = cpuid_find(c, 0);
    assert_int_equal(e->ebx, b);
    assert_int_equal(e->ecx, cx);
    assert_int_equal(e->edx, d);
    assert_int_equal(e->eax, 0xd);                    /* KVM's max basic leaf stays */
    /* Brand string and L1 leaf: the host's, the missing ones added. */
    uint32_t host_max = __get_cpuid_max(0x80000000u, NULL);
    for (uint32_t leaf = 0x80000002; leaf <= 0x80000005; leaf++) {
        e = cpuid_find(c, leaf);
        if (leaf > host_max) {
            assert_true(e == NULL || (e->eax | e->ebx | e->ecx | e->edx) == 0);
            continue;
        }
        assert_non_null(e);
        __cpuid(leaf, a, b, cx, d);
        assert_int_equal(e->eax, a);
        assert_int_equal(e->ebx, b);
        assert_int_equal(e->ecx, cx);
        assert_int_equal(e->edx, d);
    }
    free(c);
    free(sup);

    /* Without the capability the bit is off even if listed; a brand KVM gives is kept. */
    sup = fake_supported(1u << 24, 0x41414141);
    caps.tsc_deadline = false;
    assert_int_equal(cpuid_table_build(sup, 0, 1, &caps, &c, &err), 0);
    assert_false(cpuid_find(c, 1)->ecx & (1u << 24));
    assert_int_equal(cpuid_find(c, 0x80000002)->eax, 0x41414141);
    free(c);

    /* A guest whose max extended leaf is below the brand leaves gets none added. */
    sup->entries[2].eax = 0x80000001;
    assert_int_equal(cpuid_table_build(sup, 0, 1, &caps, &c, &err), 0);
    assert_int_equal(c->nent, 4);
    assert_null(cpuid_find(c, 0x80000003));
    free(c);
    free(sup);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_ptr_bounds),
        cmocka_unit_test(test_dsdt_aml),
        cmocka_unit_test(test_acpi_tables),
        cmocka_unit_test(test_elf_load),
        cmocka_unit_test(test_elf_hostile),
        cmocka_unit_test(test_bzimage_load),
        cmocka_unit_test(test_initrd_and_zero_page),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_cpuid_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
