/* `vessel start ID`: release the user process of a created container. */
#include "common/log.h"
#include "runtime/cmd_common.h"
#include "runtime/commands.h"
#include "runtime/container.h"

int cmd_start(struct vessel_globals *g, int argc, char **argv)
{
    const char *id = cmd_single_id(argc, argv, "start ID");
    if (id == NULL)
        return 1;
    struct vessel_error *err = NULL;
    if (container_start(g->root, id, &err) < 0) {
        log_error_object(err);
        return 1;
    }
    return 0;
}
