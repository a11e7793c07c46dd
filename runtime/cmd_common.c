/* Shared flag parsing for the command files. */
#include "runtime/cmd_common.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int create_opts_parse(int argc, char **argv, struct container_create_opts *o, bool *detach)
{
    enum { OPT_CONSOLE = 1000, OPT_PIDFILE, OPT_PRESERVE, OPT_NOPIVOT, OPT_NOKEYRING };
    static const struct option opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"console-socket", required_argument, NULL, OPT_CONSOLE},
        {"pid-file", required_argument, NULL, OPT_PIDFILE},
        {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
        {"no-pivot", no_argument, NULL, OPT_NOPIVOT},
        {"no-new-keyring", no_argument, NULL, OPT_NOKEYRING},
        {"detach", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *shortopts = detach ? "b:d" : "b:";
    int c;
    opterr = 0;
    optind = 0;  /* 0: glibc re-initializes (permutation) after main's "+" parse */
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 'b': o->bundle = optarg; break;
        case OPT_CONSOLE: o->console_socket = optarg; break;
        case OPT_PIDFILE: o->pid_file = optarg; break;
        case OPT_PRESERVE: {
            char *end = NULL;
            long n = strtol(optarg, &end, 10);
            if (*end != '\0' || n < 0 || n > 4096) {
                log_error("--preserve-fds: invalid number \"%s\"", optarg);
                return -1;
            }
            o->preserve_fds = (int)n;
            break;
        }
        case OPT_NOPIVOT: o->no_pivot = true; break;
        case OPT_NOKEYRING: o->no_new_keyring = true; break;
        case 'd':
            if (detach) {
                *detach = true;
                break;
            }
            /* fallthrough */
        default:
            log_error("%s: unknown option \"%s\"", argv[0], argv[optind - 1]);
            return -1;
        }
    }
    if (optind + 1 != argc) {
        log_error("%s: expects exactly one container id (usage: vessel %s [options] ID)", argv[0], argv[0]);
        return -1;
    }
    o->id = argv[optind];
    return 0;
}

const char *cmd_single_id(int argc, char **argv, const char *usage)
{
    if (argc != 2 || argv[1][0] == '-') {
        log_error("%s: usage: vessel %s", argv[0], usage);
        return NULL;
    }
    return argv[1];
}
