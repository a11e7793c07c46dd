/* ROOT/ID state directories: claim, lock, atomic state.json, live status.
 * state.json is replaced by rename (atomic against a crashed runtime); it is
 * not fsync'ed: it describes processes that do not survive a reboot either. */
#include "runtime/state_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

#define STATE_MAX_SIZE (1u << 20)

int container_id_validate(const char *id, struct vessel_error **err)
{
    size_t len = id ? strlen(id) : 0;
    if (len == 0)
        return vessel_error_set(err, 0, "container id must not be empty");
    if (len > 1024)
        return vessel_error_set(err, 0, "container id is too long (%zu bytes, at most 1024)", len);
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum || (i > 0 && (c == '_' || c == '.' || c == '-')))
            continue;
        return vessel_error_set(err, 0,
                                "invalid container id \"%s\": must match [A-Za-z0-9][A-Za-z0-9_.-]*", id);
    }
    return 0;
}

static int dir_lock(int fd, int lock)
{
    while (lock != 0 && flock(fd, lock) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

int state_dir_claim(const char *root, const char *id, struct vessel_error **err)
{
    if (mkdir_p(root, 0700, err) < 0)
        return vessel_error_wrap(err, "state root");
    _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return vessel_error_set(err, errno, "open state root \"%s\"", root);
    if (mkdirat(rootfd, id, 0711) < 0) {
        if (errno == EEXIST)
            return vessel_error_set(err, 0, "container \"%s\" already exists", id);
        return vessel_error_set(err, errno, "mkdir \"%s/%s\"", root, id);
    }
    /* Past the mkdir the id is ours: a failure must not leave it claimed. */
    int fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        (void)unlinkat(rootfd, id, AT_REMOVEDIR);
        return vessel_error_set(err, e, "open \"%s/%s\"", root, id);
    }
    int r = dir_lock(fd, LOCK_EX);
    if (r < 0) {
        close(fd);
        (void)unlinkat(rootfd, id, AT_REMOVEDIR);
        return vessel_error_set(err, -r, "lock \"%s/%s\"", root, id);
    }
    return fd;
}

int state_dir_open(const char *root, const char *id, int lock, struct vessel_error **err)
{
    if (container_id_validate(id, err) < 0)
        return vessel_error_code(*err);
    _cleanup_free_ char *path = NULL;
    if (asprintf(&path, "%s/%s", root, id) < 0)
        return vessel_error_set(err, ENOMEM, "state path");
    _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return vessel_error_set(err, 0, "container \"%s\" does not exist", id);
        return vessel_error_set(err, errno, "open \"%s\"", path);
    }
    int r = dir_lock(fd, lock);
    if (r < 0)
        return vessel_error_set(err, -r, "lock \"%s\"", path);
    /* A delete that held the lock before us unlinks the directory: st_nlink 0. */
    struct stat st;
    if (fstat(fd, &st) < 0)
        return vessel_error_set(err, errno, "stat \"%s\"", path);
    if (st.st_nlink == 0)
        return vessel_error_set(err, 0, "container \"%s\" does not exist", id);
    return steal_fd(&fd);
}

static int remove_tree_at(int parentfd, const char *name)
{
    if (unlinkat(parentfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -errno;
    int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return -e;
    }
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        int rr = remove_tree_at(dirfd(d), de->d_name);
        if (rr < 0 && r == 0)
            r = rr;
    }
    closedir(d);
    if (unlinkat(parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
        r = -errno;
    return r;
}

int state_dir_remove(const char *root, const char *id, struct vessel_error **err)
{
    _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return errno == ENOENT ? 0 : vessel_error_set(err, errno, "open state root \"%s\"", root);
    int r = remove_tree_at(rootfd, id);
    if (r < 0)
        return vessel_error_set(err, -r, "remove \"%s/%s\"", root, id);
    return 0;
}

int state_read(int dirfd, struct container_state **out, struct vessel_error **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    if (read_file_at(dirfd, STATE_FILE, STATE_MAX_SIZE, &buf, &len, err) < 0)
        return vessel_error_wrap(err, "read state");
    if (state_from_json(buf, len, out, err) < 0)
        return vessel_error_wrap(err, "parse state.json");
    return 0;
}

int state_write(int dirfd, const struct container_state *st, struct vessel_error **err)
{
    _cleanup_free_ char *json = NULL;
    if (state_to_json(st, &json, err) < 0)
        return vessel_error_wrap(err, "encode state");
    static const char tmp[] = STATE_FILE ".tmp";
    if (write_file_at(dirfd, tmp, json, strlen(json), 0600, err) < 0) {
        (void)unlinkat(dirfd, tmp, 0);
        return vessel_error_code(*err);
    }
    if (renameat(dirfd, tmp, dirfd, STATE_FILE) < 0) {
        int e = errno;
        (void)unlinkat(dirfd, tmp, 0);
        return vessel_error_set(err, e, "rename \"%s\" to \"%s\"", tmp, STATE_FILE);
    }
    return 0;
}

int pid_stat_read(pid_t pid, uint64_t *start_time, char *state_letter)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = read_all_fd(fd, buf, sizeof(buf) - 1);
    if (n < 0)
        return (int)n;
    buf[n] = '\0';
    /* comm may hold spaces and parens: fields resume after the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return -EINVAL;
    p += 2;
    if (state_letter)
        *state_letter = *p;
    /* p is at field 3; start time is field 22. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return -EINVAL;
        p++;
    }
    if (start_time)
        *start_time = strtoull(p, NULL, 10);
    return 0;
}

bool state_process_alive(const struct container_state *st)
{
    if (st->pid <= 0)
        return false;
    uint64_t start = 0;
    char letter = 0;
    if (pid_stat_read(st->pid, &start, &letter) < 0)
        return false;
    if (letter == 'Z' || letter == 'X')
        return false;
    return st->pid_start_time == 0 || start == st->pid_start_time;
}

enum container_status state_status_compute(int dirfd, const struct container_state *st)
{
    if (st->status == STATUS_CREATING)
        return STATUS_CREATING;
    if (!state_process_alive(st))
        return STATUS_STOPPED;
    if (faccessat(dirfd, STATE_EXEC_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return STATUS_CREATED;
    if (st->status == STATUS_PAUSED)
        return STATUS_PAUSED;
    return STATUS_RUNNING;
}

int state_pidfd_open(const struct container_state *st)
{
    if (st->pid <= 0)
        return -ESRCH;
    int fd = (int)syscall(SYS_pidfd_open, st->pid, 0);
    if (fd < 0)
        return -errno;
    /* Checked after opening: the pidfd now pins this very process. */
    if (!state_process_alive(st)) {
        close(fd);
        return -ESRCH;
    }
    return fd;
}

char *timestamp_now(void)
{
    struct timespec ts;
    struct tm tm;
    char date[32];
    char *out = NULL;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    if (asprintf(&out, "%s.%09ldZ", date, ts.tv_nsec) < 0)
        return NULL;
    return out;
}
