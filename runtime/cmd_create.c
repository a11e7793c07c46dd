/* `vessel create [-b BUNDLE] [--console-socket S] [--pid-file F] [--preserve-fds N]
 * [--no-pivot] [--no-new-keyring] ID`: build the container, stop before the user process. */
#include <getopt.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "runtime/cmd_common.h"
#include "runtime/commands.h"
#include "runtime/container.h"

int cmd_create(struct vessel_globals *g, int argc, char **argv)
{
    struct container_create_opts o = {.bundle = ".", .console_fd = -1};
    if (create_opts_parse(argc, argv, &o, NULL) < 0)
        return 1;
    struct vessel_error *err = NULL;
    pid_t pid = 0;
    int pidfd = -1;
    if (container_create(g, &o, &pid, &pidfd, &err) < 0) {
        log_error_object(err);
        return 1;
    }
    close(pidfd);
    return 0;
}
