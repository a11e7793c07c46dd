/* Kernel and initrd loading: ELF vmlinux (PT_LOAD at p_paddr, 64-bit entry e_entry,
 * PVH note noticed) and bzImage (protected-mode part at 1 MiB, startup_64 at +0x200).
 * Every offset and size read from the file is checked before use. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "microvm/boot.h"
#include "microvm/vm_internal.h"

#define ELF_MAX_PHDRS 64
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define BZ_LOAD_ADDR 0x100000ULL
#define BZ_MIN_VERSION 0x020c        /* 2.12: xloadflags, 64-bit entry */
#define PAGE_SIZE_4K 0x1000ULL

static int pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;  /* the file shrank under us */
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* A load target must lie in low RAM above the boot structures. */
static void *load_target(struct vm *vm, uint64_t gpa, uint64_t len)
{
    if (gpa < VM_HIGH_MEMORY || gpa >= vm->low_size || len > vm->low_size - gpa)
        return NULL;
    return vm_guest_ptr(vm, gpa, len == 0 ? 1 : len);
}

static void elf_notes_scan(struct vm *vm, const uint8_t *notes, uint64_t size)
{
    uint64_t off = 0;
    while (size - off >= 12) {
        uint32_t namesz = le32(notes + off), descsz = le32(notes + off + 4), type = le32(notes + off + 8);
        uint64_t name_len = ((uint64_t)namesz + 3) & ~3ULL, desc_len = ((uint64_t)descsz + 3) & ~3ULL;
        if (name_len > size - off - 12 || desc_len > size - off - 12 - name_len)
            return;
        const uint8_t *name = notes + off + 12;
        if (namesz == 4 && memcmp(name, "Xen", 4) == 0 && type == XEN_ELFNOTE_PHYS32_ENTRY)
            vm->has_pvh_note = true;
        off += 12 + name_len + desc_len;
    }
}

static int elf_load(struct vm *vm, int fd, uint64_t file_size, const char *path, struct vessel_error **err)
{
    Elf64_Ehdr eh;
    if (file_size < sizeof(eh) || pread_exact(fd, &eh, sizeof(eh), 0) < 0)
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": truncated ELF header", path);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": not a 64-bit little-endian x86-64 ELF file", path);
    if (eh.e_type != ET_EXEC)
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": ELF type %u is not an executable", path, eh.e_type);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > ELF_MAX_PHDRS ||
        eh.e_phoff > file_size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > file_size - eh.e_phoff)
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": bad ELF program header table", path);
    Elf64_Phdr ph[ELF_MAX_PHDRS];
    if (pread_exact(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), eh.e_phoff) < 0)
        return vessel_error_set(err, EIO, "kernel \"%s\": reading ELF program headers", path);

    bool entry_loaded = false;
    int nload = 0;
    uint64_t end = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_offset > file_size || p->p_filesz > file_size - p->p_offset)
            return vessel_error_set(err, ENOEXEC, "kernel \"%s\": segment %u lies outside the file", path, i);
        if (p->p_type == PT_NOTE && p->p_filesz > 0) {
            uint8_t notes[4096];  /* the notes we look for come early; the rest are skipped */
            uint64_t n = p->p_filesz < sizeof(notes) ? p->p_filesz : sizeof(notes);
            if (pread_exact(fd, notes, n, p->p_offset) == 0)
                elf_notes_scan(vm, notes, n);
            continue;
        }
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        if (p->p_filesz > p->p_memsz)
            return vessel_error_set(err, ENOEXEC, "kernel \"%s\": segment %u file size exceeds its memory size", path, i);
        uint8_t *dst = load_target(vm, p->p_paddr, p->p_memsz);
        if (dst == NULL)
            return vessel_error_set(err, EFBIG,
                                    "kernel \"%s\": segment %u (0x%llx bytes at 0x%llx) does not fit in guest RAM "
                                    "above 1 MiB (%llu MiB)", path, i, (unsigned long long)p->p_memsz,
                                    (unsigned long long)p->p_paddr, (unsigned long long)(vm->low_size >> 20));
        if (p->p_filesz > 0 && pread_exact(fd, dst, p->p_filesz, p->p_offset) < 0)
            return vessel_error_set(err, EIO, "kernel \"%s\": reading segment %u", path, i);
        memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
        if (eh.e_entry >= p->p_paddr && eh.e_entry - p->p_paddr < p->p_memsz)
            entry_loaded = true;
        if (p->p_paddr + p->p_memsz > end)
            end = p->p_paddr + p->p_memsz;
        nload++;
    }
    if (nload == 0)
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": no loadable segments", path);
    if (!entry_loaded)
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": entry point 0x%llx is not inside a loaded segment%s",
                                path, (unsigned long long)eh.e_entry,
                                vm->has_pvh_note ? " (only a 32-bit PVH entry? the builtin VMM enters in 64-bit mode)" : "");
    vm->entry = eh.e_entry;
    vm->kernel_end = end;
    vm->is_bzimage = false;
    vm->cmdline_limit = BOOT_ELF_CMDLINE_MAX;
    return 0;
}

static int bzimage_load(struct vm *vm, int fd, uint64_t file_size, const uint8_t *hdr, const char *path,
                        struct vessel_error **err)
{
    uint16_t version = le16(hdr + BP_VERSION);
    if (version < BZ_MIN_VERSION)
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": boot protocol %u.%02u is too old (2.12 needed)", path,
                                version >> 8, version & 0xff);
    if (!(hdr[BP_XLOADFLAGS] & XLF_KERNEL_64) || !(hdr[BP_LOADFLAGS] & LOADFLAG_LOADED_HIGH))
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": bzImage has no 64-bit entry point", path);
    uint64_t setup_sects = hdr[BP_SETUP_SECTS] ? hdr[BP_SETUP_SECTS] : 4;
    uint64_t setup_size = (setup_sects + 1) * 512;
    /* startup_64 sits 0x200 bytes into the protected-mode part: it must be in the file. */
    if (setup_size >= file_size || file_size - setup_size <= 0x200)
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": bzImage has no protected-mode code", path);
    uint64_t pm_size = file_size - setup_size;
    uint64_t init_size = le32(hdr + BP_INIT_SIZE);
    uint64_t pref = ((uint64_t)le32(hdr + BP_PREF_ADDRESS + 4) << 32) | le32(hdr + BP_PREF_ADDRESS);
    uint8_t *dst = load_target(vm, BZ_LOAD_ADDR, pm_size);
    if (dst == NULL)
        return vessel_error_set(err, EFBIG, "kernel \"%s\": %llu bytes do not fit in guest RAM", path,
                                (unsigned long long)pm_size);
    /* The kernel decompresses itself to its preferred address and needs init_size there. */
    uint64_t end = BZ_LOAD_ADDR + pm_size;
    if (pref >= BZ_LOAD_ADDR && pref < vm->low_size && init_size <= vm->low_size - pref) {
        if (pref + init_size > end)
            end = pref + init_size;
    } else if (init_size > vm->low_size - BZ_LOAD_ADDR) {
        return vessel_error_set(err, EFBIG, "kernel \"%s\": needs %llu MiB to start, more than guest RAM", path,
                                (unsigned long long)(init_size >> 20));
    } else if (BZ_LOAD_ADDR + init_size > end) {
        end = BZ_LOAD_ADDR + init_size;
    }
    if (pread_exact(fd, dst, pm_size, setup_size) < 0)
        return vessel_error_set(err, EIO, "kernel \"%s\": reading the protected-mode kernel", path);

    /* The setup header ends at 0x202 + the byte at 0x201 (the jump's offset). */
    size_t hdr_end = 0x202 + hdr[0x201];
    if (hdr_end > BP_HDR + sizeof(vm->bz_setup_header))
        hdr_end = BP_HDR + sizeof(vm->bz_setup_header);
    memset(vm->bz_setup_header, 0, sizeof(vm->bz_setup_header));
    memcpy(vm->bz_setup_header, hdr + BP_HDR, hdr_end - BP_HDR);
    vm->entry = BZ_LOAD_ADDR + 0x200;  /* startup_64 */
    vm->kernel_end = end;
    vm->is_bzimage = true;
    uint32_t cmdline_size = version >= 0x0206 ? le32(hdr + BP_CMDLINE_SIZE) : 255;
    vm->cmdline_limit = cmdline_size < VM_CMDLINE_MAX - 1 ? cmdline_size : (uint32_t)(VM_CMDLINE_MAX - 1);
    return 0;
}

/* Open a regular file to load (`what` names it in errors); the fd goes to *fd. */
static int boot_file_open(const char *what, const char *path, int *fd, uint64_t *size, struct vessel_error **err)
{
    _cleanup_close_ int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return vessel_error_set(err, errno, "opening %s \"%s\"", what, path);
    struct stat st;
    if (fstat(f, &st) < 0)
        return vessel_error_set(err, errno, "stat %s \"%s\"", what, path);
    if (!S_ISREG(st.st_mode))
        return vessel_error_set(err, EINVAL, "%s \"%s\" is not a regular file", what, path);
    *size = (uint64_t)st.st_size;
    *fd = f;
    f = -1;
    return 0;
}

int boot_kernel_load(struct vm *vm, const char *path, struct vessel_error **err)
{
    _cleanup_close_ int fd = -1;
    uint64_t size;
    int r = boot_file_open("kernel", path, &fd, &size, err);
    if (r < 0)
        return r;
    if (size > vm->low_size)
        return vessel_error_set(err, EFBIG, "kernel \"%s\" (%llu bytes) is larger than guest RAM", path,
                                (unsigned long long)size);
    uint8_t hdr[0x290] = {0};
    size_t want = size < sizeof(hdr) ? (size_t)size : sizeof(hdr);
    if (want < 4 || pread_exact(fd, hdr, want, 0) < 0)
        return vessel_error_set(err, ENOEXEC, "kernel \"%s\": too short to be a kernel", path);
    if (memcmp(hdr, ELFMAG, SELFMAG) == 0)
        return elf_load(vm, fd, size, path, err);
    if (want == sizeof(hdr) && le16(hdr + BP_BOOT_FLAG) == 0xaa55 && le32(hdr + BP_HEADER) == HDR_MAGIC)
        return bzimage_load(vm, fd, size, hdr, path, err);
    return vessel_error_set(err, ENOEXEC, "kernel \"%s\": neither an ELF vmlinux nor a bzImage", path);
}

int boot_initrd_load(struct vm *vm, const char *path, struct vessel_error **err)
{
    _cleanup_close_ int fd = -1;
    uint64_t size;
    int r = boot_file_open("initrd", path, &fd, &size, err);
    if (r < 0)
        return r;
    uint64_t limit = vm->low_size;
    if (vm->is_bzimage) {
        uint64_t max = (uint64_t)le32(vm->bz_setup_header + (BP_INITRD_ADDR_MAX - BP_HDR)) + 1;
        if (max > PAGE_SIZE_4K && max < limit)
            limit = max;
    }
    uint64_t floor = (vm->kernel_end + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
    if (size == 0 || floor >= limit || size > limit - floor)
        return vessel_error_set(err, EFBIG, "initrd \"%s\" (%llu bytes) does not fit in guest RAM above the kernel",
                                path, (unsigned long long)size);
    uint64_t addr = (limit - size) & ~(PAGE_SIZE_4K - 1);
    uint8_t *dst = load_target(vm, addr, size);
    if (dst == NULL)
        return vessel_error_set(err, EFBIG, "initrd \"%s\" does not fit in guest RAM", path);
    if (pread_exact(fd, dst, size, 0) < 0)
        return vessel_error_set(err, EIO, "reading initrd \"%s\"", path);
    vm->initrd_addr = addr;
    vm->initrd_size = size;
    return 0;
}

int boot_cmdline_check(const struct vm *vm, const char *cmdline, struct vessel_error **err)
{
    size_t len = cmdline ? strlen(cmdline) : 0;
    if (len > vm->cmdline_limit)
        return vessel_error_set(err, E2BIG, "command line of %zu bytes is longer than the kernel accepts (%u)", len,
                                vm->cmdline_limit);
    return 0;
}
