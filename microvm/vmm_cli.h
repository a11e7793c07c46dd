/* `vessel vmm`: boot a guest under the builtin VMM from command-line flags and exit
 * with a status that says how the guest ended (see man/vessel-vmm.8). */
#ifndef VESSEL_MICROVM_VMM_CLI_H
#define VESSEL_MICROVM_VMM_CLI_H

#include <stdbool.h>

#include "microvm/vm.h"

/* Exit statuses of `vessel vmm`. A guest-written exit code (port 0x501) is returned as is. */
#define VMM_STATUS_POWEROFF 0
#define VMM_STATUS_VMM_ERROR 1
#define VMM_STATUS_HLT 2
#define VMM_STATUS_RESET 3
#define VMM_STATUS_TRIPLE_FAULT 4
#define VMM_STATUS_FAIL_ENTRY 5
#define VMM_STATUS_INTERNAL_ERROR 6
#define VMM_STATUS_STOP_REQUESTED 7
#define VMM_STATUS_CRASH 8

/* The exit status for how a VM ended. */
int vmm_exit_status(const struct vm_exit *exit);

/* argv[0] is "vmm"; debug is the global --debug. Prints errors; returns the exit status. */
int vmm_cli_main(bool debug, int argc, char **argv);

#endif
