/* `vessel kill [--all|-a] ID [SIGNAL]`: signal names (with or without SIG) or numbers; default TERM. */
#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "common/log.h"
#include "runtime/commands.h"
#include "runtime/container.h"

int cmd_kill(struct vessel_globals *g, int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    bool all = false;
    int c;
    opterr = 0;
    optind = 0;  /* 0: glibc re-initializes (permutation) after main's "+" parse */
    /* "+" so "-9"-style operands are not taken for options after the id. */
    while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
        if (c != 'a') {
            log_error("kill: unknown option \"%s\"", argv[optind - 1]);
            return 1;
        }
        all = true;
    }
    int n = argc - optind;
    if (n > 0 && optind + 1 < argc && strcmp(argv[optind + 1], "--all") == 0) {
        all = true;
        n--;
    }
    if (n < 1 || n > 2) {
        log_error("kill: usage: vessel kill [--all] ID [SIGNAL]");
        return 1;
    }
    struct vessel_error *err = NULL;
    int sig = SIGTERM;
    if (n == 2 && signal_parse(argv[optind + 1], &sig, &err) < 0) {
        log_error_object(err);
        return 1;
    }
    if (container_kill(g->root, argv[optind], sig, all, &err) < 0) {
        log_error_object(err);
        return 1;
    }
    return 0;
}
