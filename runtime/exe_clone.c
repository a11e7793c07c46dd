/* Sealed memfd copy of /proc/self/exe for the container init to run from. */
#include "runtime/exe_clone.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define EXE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool exe_is_sealed(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & EXE_SEALS) == EXE_SEALS;
}

/* The bytes exec needs: up to the end of the farthest segment. Debug info and
 * section headers (three quarters of a -g build) stay behind; the copy's
 * header then names no sections. 0 when exe is not a 64-bit ELF we read. */
static off_t elf_runtime_extent(int exe, off_t size, Elf64_Ehdr *eh)
{
    if (pread(exe, eh, sizeof(*eh), 0) != (ssize_t)sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
        eh->e_phnum > 256)
        return 0;
    Elf64_Phdr ph[256];
    size_t len = (size_t)eh->e_phnum * sizeof(Elf64_Phdr);
    if (pread(exe, ph, len, (off_t)eh->e_phoff) != (ssize_t)len)
        return 0;
    uint64_t end = eh->e_phoff + len;
    for (size_t i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_offset + ph[i].p_filesz > end)
            end = ph[i].p_offset + ph[i].p_filesz;
    }
    return end < (uint64_t)size ? (off_t)end : 0;
}

int exe_clone_sealed(struct vessel_error **err)
{
    _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (exe < 0)
        return vessel_error_set(err, errno, "open \"/proc/self/exe\"");
    if (exe_is_sealed(exe))
        return steal_fd(&exe);

    struct stat st;
    if (fstat(exe, &st) < 0)
        return vessel_error_set(err, errno, "stat \"/proc/self/exe\"");
    /* MFD_EXEC keeps the copy executable where vm.memfd_noexec defaults to noexec. */
    _cleanup_close_ int mfd = memfd_create("vessel", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (mfd < 0 && errno == EINVAL)
        mfd = memfd_create("vessel", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return vessel_error_set(err, errno, "memfd_create for the binary copy");
    Elf64_Ehdr eh;
    off_t size = elf_runtime_extent(exe, st.st_size, &eh);
    if (size == 0)
        size = st.st_size;
    if (ftruncate(mfd, size) < 0)
        return vessel_error_set(err, errno, "size the binary copy");
    off_t off = 0;
    while (off < size) {
        ssize_t n = sendfile(mfd, exe, &off, (size_t)(size - off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vessel_error_set(err, errno, "copy the binary into a memfd");
        if (n == 0)
            return vessel_error_set(err, EIO, "copy the binary into a memfd: short file");
    }
    if (size < st.st_size) {
        eh.e_shoff = 0;
        eh.e_shnum = 0;
        eh.e_shstrndx = SHN_UNDEF;
        if (pwrite(mfd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
            return vessel_error_set(err, errno, "write the binary copy's header");
    }
    if (fcntl(mfd, F_ADD_SEALS, EXE_SEALS) < 0)
        return vessel_error_set(err, errno, "seal the binary copy");
    return steal_fd(&mfd);
}
