/* Log sink shared by every command: stderr always gets errors and warnings,
 * --log gets everything at or above the chosen level in text or JSON. */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"

static int log_fd = -1;
static int log_json;
static int log_debug_on;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

int log_init(const char *path, int json, int debug, struct vessel_error **err)
{
    log_json = json;
    log_debug_on = debug;
    if (path == NULL || path[0] == '\0')
        return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return vessel_error_set(err, errno, "open log file \"%s\"", path);
    log_close();
    log_fd = fd;
    return 0;
}

void log_close(void)
{
    if (log_fd >= 0)
        (void)close(log_fd);
    log_fd = -1;
}

int log_debug_enabled(void)
{
    return log_debug_on;
}

static void json_escape_into(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
}

static void log_to_file(enum log_level level, const char *msg)
{
    char *line = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&line, &len);
    if (out == NULL)
        return;
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    (void)gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    (void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    if (log_json) {
        fprintf(out, "{\"level\":\"%s\",\"msg\":\"", level_names[level]);
        json_escape_into(out, msg);
        fprintf(out, "\",\"time\":\"%s.%09ldZ\"}\n", when, ts.tv_nsec);
    } else {
        fprintf(out, "%s.%09ldZ %s: %s\n", when, ts.tv_nsec, level_names[level], msg);
    }
    (void)fclose(out);
    (void)write_all_fd(log_fd, line, len);
    free(line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level == LOG_LEVEL_DEBUG && !log_debug_on)
        return;
    int saved = errno;
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        errno = saved;
        return;
    }
    if (log_fd >= 0)
        log_to_file(level, msg);
    /* runc/crun print errors on stderr even with --log; conmon reads --log.
     * When --log is JSON and set, keep stderr to errors only. */
    if (level <= LOG_LEVEL_WARNING || (log_fd < 0 && log_debug_on)) {
        char *line = NULL;
        if (asprintf(&line, "vessel: %s%s\n", level == LOG_LEVEL_WARNING ? "warning: " : "", msg) >= 0) {
            (void)write_all_fd(STDERR_FILENO, line, strlen(line));
            free(line);
        }
    }
    free(msg);
    errno = saved;
}

void log_error_object(struct vessel_error *err)
{
    if (err == NULL)
        return;
    log_error("%s", err->msg ? err->msg : "unknown error");
    vessel_error_free(err);
}
