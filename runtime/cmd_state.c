/* `vessel state ID`: the OCI state JSON on stdout. */
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "runtime/cmd_common.h"
#include "runtime/commands.h"
#include "runtime/container.h"

int cmd_state(struct vessel_globals *g, int argc, char **argv)
{
    const char *id = cmd_single_id(argc, argv, "state ID");
    if (id == NULL)
        return 1;
    struct vessel_error *err = NULL;
    struct container_state *st = NULL;
    char *json = NULL;
    if (container_state_load(g->root, id, &st, &err) == 0) {
        if (st->status == STATUS_STOPPED)
            st->pid = 0;  /* as runc: no pid once the process is gone */
        (void)state_to_oci_json(st, &json, &err);
    }
    state_free(st);
    if (json == NULL) {
        log_error_object(err);
        return 1;
    }
    puts(json);
    free(json);
    return 0;
}
