/* The command table's contract: one thin file per command (runtime/cmd_NAME.c)
 * that parses its own flags, calls the library below, prints, and returns the
 * process exit status. Errors are printed once, here, via log_error_object(). */
#ifndef VESSEL_RUNTIME_COMMANDS_H
#define VESSEL_RUNTIME_COMMANDS_H

#include <stdbool.h>

enum isolation_mode { ISOLATION_DEFAULT, ISOLATION_CONTAINER, ISOLATION_VM };

struct vessel_globals {
    const char *root;          /* --root, default /run/vessel */
    const char *log_path;      /* --log */
    bool log_json;             /* --log-format json */
    bool debug;                /* --debug */
    bool systemd_cgroup;       /* --systemd-cgroup (accepted; cgroupfs driver used) */
    enum isolation_mode isolation;  /* --isolation, or vessel-vm binary name */
    bool invoked_as_vm;        /* argv[0] basename is vessel-vm */
};

/* argv[0] is the command name; getopt-style parsing from argv[1]. */
typedef int (*command_fn)(struct vessel_globals *g, int argc, char **argv);

int cmd_create(struct vessel_globals *g, int argc, char **argv);
int cmd_start(struct vessel_globals *g, int argc, char **argv);
int cmd_state(struct vessel_globals *g, int argc, char **argv);
int cmd_kill(struct vessel_globals *g, int argc, char **argv);
int cmd_delete(struct vessel_globals *g, int argc, char **argv);
int cmd_run(struct vessel_globals *g, int argc, char **argv);
int cmd_list(struct vessel_globals *g, int argc, char **argv);
int cmd_spec(struct vessel_globals *g, int argc, char **argv);
int cmd_features(struct vessel_globals *g, int argc, char **argv);
int cmd_vmm(struct vessel_globals *g, int argc, char **argv);
/* Internal: the container's init, re-executed from a sealed copy of vessel. */
int cmd_init(struct vessel_globals *g, int argc, char **argv);

/* Entry of the guest init when the binary runs as PID 1 inside a micro-VM. */
int guest_init_main(int argc, char **argv);

#endif
