/* `vessel spec [--rootless] [--bundle|-b DIR]`: write a default config.json. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/log.h"
#include "oci/spec.h"
#include "runtime/commands.h"

int cmd_spec(struct vessel_globals *g, int argc, char **argv)
{
    (void)g;
    static const struct option opts[] = {
        {"rootless", no_argument, NULL, 'r'}, {"bundle", required_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
    bool rootless = false;
    const char *bundle = ".";
    int c;
    opterr = 0;
    optind = 0;  /* 0: glibc re-initializes (permutation) after main's "+" parse */
    while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
        if (c == 'r')
            rootless = true;
        else if (c == 'b')
            bundle = optarg;
        else {
            log_error("spec: unknown option \"%s\"", argv[optind - 1]);
            return 1;
        }
    }
    if (optind != argc) {
        log_error("spec: usage: vessel spec [--rootless] [--bundle DIR]");
        return 1;
    }
    struct vessel_error *err = NULL;
    _cleanup_free_ char *json = NULL, *path = NULL;
    if (asprintf(&path, "%s/config.json", bundle) < 0)
        return 1;
    if (spec_default_json(rootless, &json, &err) < 0) {
        log_error_object(err);
        return 1;
    }
    /* O_EXCL: never overwrite a user's config.json, without a check-then-write race. */
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            log_error("spec: \"%s\" exists; remove it first", path);
        else
            log_error("spec: create \"%s\": %s", path, strerror(errno));
        return 1;
    }
    int r = write_all_fd(fd, json, strlen(json));
    if (r < 0) {
        log_error("spec: write \"%s\": %s", path, strerror(-r));
        (void)unlink(path);
        return 1;
    }
    return 0;
}
