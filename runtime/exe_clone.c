/* Sealed memfd copy of /proc/self/exe for the container init to run from. */
#include "runtime/exe_clone.h"

#include <errno.h>
#include <fcntl.h>
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
    if (ftruncate(mfd, st.st_size) < 0)
        return vessel_error_set(err, errno, "size the binary copy");
    off_t off = 0;
    while (off < st.st_size) {
        ssize_t n = sendfile(mfd, exe, &off, (size_t)(st.st_size - off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return vessel_error_set(err, errno, "copy the binary into a memfd");
        if (n == 0)
            return vessel_error_set(err, EIO, "copy the binary into a memfd: short file");
    }
    if (fcntl(mfd, F_ADD_SEALS, EXE_SEALS) < 0)
        return vessel_error_set(err, errno, "seal the binary copy");
    return steal_fd(&mfd);
}
