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
    if (access(path, F_OK) == 0) {
        log_error("spec: \"%s\" exists; remove it first", path);
        return 1;
    }
    if (spec_default_json(rootless, &json, &err) < 0 ||
        write_file_at(AT_FDCWD, path, json, strlen(json), 0644, &err) < 0) {
        log_error_object(err);
        return 1;
    }
    return 0;
}
