/* vessel's entry point: global flags, then one command from the table. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "runtime/commands.h"

struct command {
    const char *name;
    command_fn fn;
    const char *help;
};

static const struct command commands[] = {
    {"create", cmd_create, "create a container (stopped before the user process)"},
    {"start", cmd_start, "start the user process of a created container"},
    {"state", cmd_state, "print the OCI state of a container"},
    {"kill", cmd_kill, "send a signal to the container's init (or --all processes)"},
    {"delete", cmd_delete, "delete a container and everything it owns"},
    {"run", cmd_run, "create and start a container"},
    {"list", cmd_list, "list containers"},
    {"spec", cmd_spec, "write a default config.json"},
    {"features", cmd_features, "print the runtime-spec features document"},
    {"vmm", cmd_vmm, "boot a guest under the builtin VMM (testing and debugging)"},
    {"init", cmd_init, NULL},  /* internal: the container init; not listed */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vessel [global options] COMMAND [options] [ID]\n\n"
            "global options:\n"
            "  --root DIR            state directory (default /run/vessel)\n"
            "  --log FILE            also log to FILE\n"
            "  --log-format FMT      text or json\n"
            "  --debug               debug output\n"
            "  --isolation MODE      container or vm\n"
            "  --systemd-cgroup      accepted for compatibility\n"
            "  --version, --help\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (commands[i].help != NULL)
            fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

static int parse_globals(struct vessel_globals *g, int argc, char **argv)
{
    enum { OPT_ROOT = 1000, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_ISOLATION, OPT_SYSTEMD, OPT_VERSION, OPT_HELP };
    static const struct option opts[] = {
        {"root", required_argument, NULL, OPT_ROOT},
        {"log", required_argument, NULL, OPT_LOG},
        {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
        {"debug", no_argument, NULL, OPT_DEBUG},
        {"isolation", required_argument, NULL, OPT_ISOLATION},
        {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
        {"version", no_argument, NULL, OPT_VERSION},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;
    /* "+" stops at the first non-option: the command name. */
    while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_ROOT: g->root = optarg; break;
        case OPT_LOG: g->log_path = optarg; break;
        case OPT_LOG_FORMAT:
            if (strcmp(optarg, "json") == 0)
                g->log_json = true;
            else if (strcmp(optarg, "text") == 0)
                g->log_json = false;
            else {
                fprintf(stderr, "vessel: --log-format: unknown format \"%s\" (text or json)\n", optarg);
                return -1;
            }
            break;
        case OPT_DEBUG: g->debug = true; break;
        case OPT_ISOLATION:
            if (strcmp(optarg, "vm") == 0)
                g->isolation = ISOLATION_VM;
            else if (strcmp(optarg, "container") == 0)
                g->isolation = ISOLATION_CONTAINER;
            else {
                fprintf(stderr, "vessel: --isolation: unknown mode \"%s\" (container or vm)\n", optarg);
                return -1;
            }
            break;
        case OPT_SYSTEMD: g->systemd_cgroup = true; break;
        case 'v':
        case OPT_VERSION:
            printf("vessel version %s\nspec: 1.2.0\n", VESSEL_VERSION);
            exit(0);
        case 'h':
        case OPT_HELP:
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    return optind;
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    /* Inside a micro-VM the same binary is the guest's /init. */
    if (getpid() == 1 && strcmp(base, "init") == 0)
        return guest_init_main(argc, argv);

    struct vessel_globals g = {.root = "/run/vessel"};
    g.invoked_as_vm = strcmp(base, "vessel-vm") == 0;
    int first = parse_globals(&g, argc, argv);
    if (first < 0)
        return 1;
    if (first >= argc) {
        usage(stderr);
        return 1;
    }
    struct vessel_error *err = NULL;
    if (log_init(g.log_path, g.log_json, g.debug, &err) < 0) {
        log_error_object(err);
        return 1;
    }
    const char *name = argv[first];
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            optind = 1;  /* each command parses its own argv from index 1 */
            int rc = commands[i].fn(&g, argc - first, argv + first);
            log_close();
            return rc;
        }
    }
    log_error("unknown command \"%s\" (see vessel --help)", name);
    return 1;
}
