/* The rootfs ext4 image cache and the per-container initramfs (runtime/vm_images.h). */
#include "runtime/vm_images.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

int vm_image_cache_dir(char **out, struct vessel_error **err)
{
    const char *env = getenv("VESSEL_VM_CACHE");
    int r;
    if (env && env[0] == '/')
        r = asprintf(out, "%s", env);
    else if (geteuid() == 0)
        r = asprintf(out, "/var/cache/vessel/vm-images");
    else if (getenv("XDG_CACHE_HOME"))
        r = asprintf(out, "%s/vessel/vm-images", getenv("XDG_CACHE_HOME"));
    else
        r = asprintf(out, "%s/.cache/vessel/vm-images", getenv("HOME") ? getenv("HOME") : "/tmp");
    if (r < 0)
        return vessel_error_set(err, ENOMEM, "cache dir");
    return mkdir_p(*out, 0700, err);
}

/* ---- the tree listing (cache key) ---- */

struct listing {
    FILE *out;
    uint64_t bytes;     /* disk usage */
    uint64_t entries;
    size_t prefix;      /* strlen(rootfs) */
    int error;
};
static struct listing *walk_state;  /* nftw has no user pointer */

static int listing_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    struct listing *l = walk_state;
    if (flag == FTW_DNR || flag == FTW_NS) {
        l->error = errno ? errno : EACCES;
        return 1;
    }
    char target[PATH_MAX] = "";
    if (S_ISLNK(st->st_mode)) {
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
    }
    fprintf(l->out, "%s\t%o\t%u\t%u\t%jd\t%jx\t%jd.%09ld\t%jd.%09ld\t%s\n", path + l->prefix,
            (unsigned)st->st_mode, (unsigned)st->st_uid, (unsigned)st->st_gid, (intmax_t)st->st_size,
            (uintmax_t)st->st_rdev, (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
            (intmax_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec, target);
    l->bytes += (uint64_t)st->st_blocks * 512;
    l->entries++;
    if (ftell(l->out) > (long)VM_IMAGE_MAX_LISTING) {
        l->error = EFBIG;
        return 1;
    }
    return 0;
}

static int rootfs_listing(const char *rootfs, char **text, size_t *len, uint64_t *bytes, uint64_t *entries,
                          struct vessel_error **err)
{
    struct listing l = {.prefix = strlen(rootfs)};
    l.out = open_memstream(text, len);
    if (l.out == NULL)
        return vessel_error_set(err, errno, "listing");
    fprintf(l.out, "vessel-rootfs-image v1 ext4 nojournal\n");
    walk_state = &l;
    int r = nftw(rootfs, listing_add, 32, FTW_PHYS | FTW_MOUNT);
    walk_state = NULL;
    fclose(l.out);
    if (r != 0 || l.error) {
        free(*text);
        *text = NULL;
        return vessel_error_set(err, l.error ? l.error : errno, "read rootfs \"%s\"", rootfs);
    }
    *bytes = l.bytes;
    *entries = l.entries;
    return 0;
}

static uint64_t fnv1a64(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- making and copying images ---- */

static int run_mkfs(const char *rootfs, const char *image, uint64_t size_kib, uint64_t inodes,
                    struct vessel_error **err)
{
    struct stat st;
    if (stat(rootfs, &st) < 0)
        return vessel_error_set(err, errno, "rootfs \"%s\"", rootfs);
    char size[32], nodes[32], owner[64];
    snprintf(size, sizeof(size), "%" PRIu64 "k", size_kib);
    snprintf(nodes, sizeof(nodes), "%" PRIu64, inodes);
    snprintf(owner, sizeof(owner), "root_owner=%u:%u", (unsigned)st.st_uid, (unsigned)st.st_gid);
    _cleanup_close_ int errfd = memfd_create("mkfs-stderr", MFD_CLOEXEC);
    if (errfd < 0)
        return vessel_error_set(err, errno, "memfd_create");
    pid_t pid = fork();
    if (pid < 0)
        return vessel_error_set(err, errno, "fork");
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(errfd, 2);
        execlp("mkfs.ext4", "mkfs.ext4", "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-m", "0", "-N", nodes,
               "-E", owner, "-L", "vessel-root", "-d", rootfs, image, size, (char *)NULL);
        dprintf(2, "exec mkfs.ext4: %s (apt-get install e2fsprogs)", strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return vessel_error_set(err, errno, "waitpid mkfs.ext4");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char msg[512] = "";
    ssize_t n = pread(errfd, msg, sizeof(msg) - 1, 0);
    msg[n > 0 ? n : 0] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return vessel_error_set(err, 0, "mkfs.ext4 -d \"%s\" failed (status %d): %s", rootfs,
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), msg);
}

/* Copy only the data extents, so a mostly empty image stays sparse. */
static int copy_sparse(int in, int out)
{
    struct stat st;
    if (fstat(in, &st) < 0 || ftruncate(out, st.st_size) < 0)
        return -errno;
    off_t pos = 0;
    while (pos < st.st_size) {
        off_t data = lseek(in, pos, SEEK_DATA);
        if (data < 0)
            return errno == ENXIO ? 0 : -errno;
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0)
            return -errno;
        off_t off_in = data, off_out = data;
        while (off_in < hole) {
            ssize_t n = copy_file_range(in, &off_in, out, &off_out, (size_t)(hole - off_in), 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return n < 0 ? -errno : -EIO;
        }
        pos = hole;
    }
    return 0;
}

static int place_image(const char *cached, const char *dest, bool readonly, struct vessel_error **err)
{
    (void)unlink(dest);
    if (readonly && link(cached, dest) == 0)
        return 0;
    _cleanup_close_ int in = open(cached, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return vessel_error_set(err, errno, "open \"%s\"", cached);
    _cleanup_close_ int out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return vessel_error_set(err, errno, "create \"%s\"", dest);
    if (ioctl(out, FICLONE, in) == 0)
        return 0;
    int r = copy_sparse(in, out);
    if (r < 0) {
        (void)unlink(dest);
        return vessel_error_set(err, -r, "copy \"%s\" to \"%s\"", cached, dest);
    }
    return 0;
}

/* Keep the VM_IMAGE_CACHE_KEEP most recently used images. */
static void cache_evict(const char *dir)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct { char name[64]; struct timespec used; } e[64];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 64) {
        size_t len = strlen(de->d_name);
        struct stat st;
        if (len < 5 || len >= sizeof(e[0].name) || strcmp(de->d_name + len - 4, ".img") != 0 ||
            fstatat(dirfd(d), de->d_name, &st, 0) < 0)
            continue;
        memcpy(e[n].name, de->d_name, len + 1);
        e[n++].used = st.st_mtim;
    }
    while (n > VM_IMAGE_CACHE_KEEP) {
        size_t oldest = 0;
        for (size_t i = 1; i < n; i++)
            if (e[i].used.tv_sec < e[oldest].used.tv_sec ||
                (e[i].used.tv_sec == e[oldest].used.tv_sec && e[i].used.tv_nsec < e[oldest].used.tv_nsec))
                oldest = i;
        char list[80];
        snprintf(list, sizeof(list), "%.*s.list", (int)(strlen(e[oldest].name) - 4), e[oldest].name);
        (void)unlinkat(dirfd(d), e[oldest].name, 0);
        (void)unlinkat(dirfd(d), list, 0);
        e[oldest] = e[--n];
    }
}

static bool cache_hit(const char *img, const char *list, const char *listing, size_t len)
{
    _cleanup_free_ char *old = NULL;
    size_t old_len = 0;
    struct vessel_error *ignored = NULL;
    if (access(img, R_OK) < 0 || read_file_at(AT_FDCWD, list, VM_IMAGE_MAX_LISTING + 1, &old, &old_len,
                                              &ignored) < 0) {
        vessel_error_free(ignored);
        return false;
    }
    return old_len == len && memcmp(old, listing, len) == 0;
}

int vm_image_rootfs(const char *rootfs, const char *state_dir, bool readonly, char **out_path,
                    struct vessel_error **err)
{
    _cleanup_free_ char *listing = NULL, *cache = NULL, *img = NULL, *list = NULL, *tmp = NULL;
    size_t len = 0;
    uint64_t bytes = 0, entries = 0;
    if (rootfs_listing(rootfs, &listing, &len, &bytes, &entries, err) < 0)
        return vessel_error_code(*err);
    if (vm_image_cache_dir(&cache, err) < 0)
        return vessel_error_wrap(err, "image cache");
    uint64_t h = fnv1a64(listing, len);
    if (asprintf(&img, "%s/%016" PRIx64 ".img", cache, h) < 0 ||
        asprintf(&list, "%s/%016" PRIx64 ".list", cache, h) < 0 ||
        asprintf(&tmp, "%s/.%016" PRIx64 ".%d.tmp", cache, h, (int)getpid()) < 0 ||
        asprintf(out_path, "%s/%s", state_dir, VM_IMAGE_ROOTFS) < 0)
        return vessel_error_set(err, ENOMEM, "image paths");
    if (!cache_hit(img, list, listing, len)) {
        /* Room for the files, their metadata and growth: sparse, so headroom is cheap. */
        uint64_t kib = bytes / 1024 * 2 + entries * 4 + 64 * 1024;
        uint64_t inodes = entries * 2 + 4096;
        (void)unlink(tmp);
        if (run_mkfs(rootfs, tmp, kib, inodes, err) < 0) {
            (void)unlink(tmp);
            goto fail;
        }
        if (write_file_atomic(list, listing, len, 0600, err) < 0 || rename(tmp, img) < 0) {
            if (*err == NULL)
                vessel_error_set(err, errno, "store \"%s\"", img);
            (void)unlink(tmp);
            goto fail;
        }
        cache_evict(cache);
    } else {
        (void)utimensat(AT_FDCWD, img, NULL, 0);  /* most recently used */
    }
    if (place_image(img, *out_path, readonly, err) < 0)
        goto fail;
    return 0;
fail:
    free(*out_path);
    *out_path = NULL;
    return vessel_error_wrap(err, "rootfs image");
}

/* ---- the per-container initramfs ---- */

static void cpio_entry(FILE *f, const char *name, unsigned mode, const void *data, size_t len, unsigned ino)
{
    size_t namesize = strlen(name) + 1;
    fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, mode, 0u, 0u,
            S_ISDIR(mode) ? 2u : 1u, 0u, (unsigned)len, 0u, 0u, 0u, 0u, (unsigned)namesize, 0u);
    fwrite(name, 1, namesize, f);
    static const char zeros[4];
    fwrite(zeros, 1, (4 - (110 + namesize) % 4) % 4, f);
    if (len > 0)
        fwrite(data, 1, len, f);
    fwrite(zeros, 1, (4 - len % 4) % 4, f);
}

int cpio_newc_single(const char *dir, const char *file, const void *data, size_t len, unsigned mode,
                     char **out, size_t *out_len)
{
    if (len > UINT32_MAX)
        return -EFBIG;
    *out = NULL;
    FILE *f = open_memstream(out, out_len);
    if (f == NULL)
        return -errno;
    cpio_entry(f, dir, S_IFDIR | 0755, NULL, 0, 1);
    cpio_entry(f, file, S_IFREG | (mode & 07777), data, len, 2);
    cpio_entry(f, "TRAILER!!!", 0, NULL, 0, 0);
    if (fclose(f) != 0)
        return -ENOMEM;
    return (int)*out_len;
}

int vm_image_initrd(const char *base_initrd, const char *config, size_t config_len, const char *state_dir,
                    char **out_path, struct vessel_error **err)
{
    _cleanup_free_ char *cpio = NULL;
    size_t cpio_len = 0;
    int r = cpio_newc_single("bundle", "bundle/config.json", config, config_len, 0600, &cpio, &cpio_len);
    if (r < 0)
        return vessel_error_set(err, -r, "initramfs: config.json archive");
    if (asprintf(out_path, "%s/%s", state_dir, VM_IMAGE_INITRD) < 0)
        return vessel_error_set(err, ENOMEM, "initrd path");
    _cleanup_close_ int in = open(base_initrd, O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int out = -1;
    struct stat st;
    if (in < 0 || fstat(in, &st) < 0) {
        vessel_error_set(err, errno, "open guest initramfs \"%s\"", base_initrd);
        goto fail;
    }
    out = open(*out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        vessel_error_set(err, errno, "create \"%s\"", *out_path);
        goto fail;
    }
    off_t off = 0;
    while (off < st.st_size) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(st.st_size - off), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            vessel_error_set(err, n < 0 ? errno : EIO, "copy guest initramfs to \"%s\"", *out_path);
            goto fail;
        }
        off += n;
    }
    /* An uncompressed archive after a compressed one must start 4-byte aligned. */
    static const char zeros[4];
    size_t pad = (4 - (size_t)st.st_size % 4) % 4;
    if ((pad && write_all_fd(out, zeros, pad) < 0) || write_all_fd(out, cpio, cpio_len) < 0) {
        vessel_error_set(err, errno, "write \"%s\"", *out_path);
        goto fail;
    }
    return 0;
fail:
    (void)unlink(*out_path);
    free(*out_path);
    *out_path = NULL;
    return vessel_error_code(*err);
}
