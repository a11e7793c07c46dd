/* `vessel vmm`: thin wrapper over the builtin VMM's command (microvm/vmm_cli.c). */
#include "microvm/vmm_cli.h"
#include "runtime/commands.h"

int cmd_vmm(struct vessel_globals *g, int argc, char **argv)
{
    return vmm_cli_main(g->debug, argc, argv);
}
