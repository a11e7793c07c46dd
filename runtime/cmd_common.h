/* Flag parsing shared by the command files (create and run take the same set). */
#ifndef VESSEL_RUNTIME_CMD_COMMON_H
#define VESSEL_RUNTIME_CMD_COMMON_H

#include <stdbool.h>

#include "runtime/container.h"

/* Parses create/run flags and the ID operand into *o; detach is set for
 * --detach/-d when non-NULL (run only). Prints its own error; -1 on failure. */
int create_opts_parse(int argc, char **argv, struct container_create_opts *o, bool *detach);

/* The single ID operand of start/state/delete/...: prints usage errors itself. */
const char *cmd_single_id(int argc, char **argv, const char *usage);

#endif
