/* `vessel delete [--force|-f] ID`: remove a container and all it owns. */
#include <getopt.h>

#include "common/log.h"
#include "runtime/commands.h"
#include "runtime/container.h"

int cmd_delete(struct vessel_globals *g, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    bool force = false;
    int c;
    opterr = 0;
    optind = 0;  /* 0: glibc re-initializes (permutation) after main's "+" parse */
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (c != 'f') {
            log_error("delete: unknown option \"%s\"", argv[optind - 1]);
            return 1;
        }
        force = true;
    }
    if (optind + 1 != argc) {
        log_error("delete: usage: vessel delete [--force] ID");
        return 1;
    }
    struct vessel_error *err = NULL;
    if (container_delete(g->root, argv[optind], force, &err) < 0) {
        log_error_object(err);
        return 1;
    }
    return 0;
}
