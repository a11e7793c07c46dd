/* `vessel init`: internal; the container's init after vessel re-executed it
 * from a sealed copy (see runtime/linux_executor.h). Not for direct use. */
#include "runtime/commands.h"
#include "runtime/linux_executor.h"

int cmd_init(struct vessel_globals *g, int argc, char **argv)
{
    (void)g;
    (void)argc;
    (void)argv;
    return linux_init_main();
}
