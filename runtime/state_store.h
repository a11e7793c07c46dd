/* Where a container's state lives (ROOT/ID), how it is locked, written
 * atomically and read back, and how its live status is computed. */
#ifndef VESSEL_RUNTIME_STATE_STORE_H
#define VESSEL_RUNTIME_STATE_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/state.h"

#define STATE_FILE "state.json"
#define STATE_CONFIG_FILE "config.json"  /* copy of the spec taken at create */
#define STATE_EXEC_FIFO "exec.fifo"

/* Container ids follow runc: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 1024 bytes. */
int container_id_validate(const char *id, struct vessel_error **err);

/* Claim ROOT/ID: mkdir (the atomic create-vs-create arbiter: a second create of
 * the same id gets EEXIST -> `container "x" already exists`), open it and take
 * its exclusive flock. Returns the locked directory fd. */
int state_dir_claim(const char *root, const char *id, struct vessel_error **err);

/* Open ROOT/ID and flock it (lock: LOCK_EX, LOCK_SH, or 0 for readers that
 * rely on state.json being replaced atomically). `container "x" does not
 * exist` when missing (or deleted while we waited for the lock). */
int state_dir_open(const char *root, const char *id, int lock, struct vessel_error **err);

/* Remove ROOT/ID and everything in it (missing is fine). */
int state_dir_remove(const char *root, const char *id, struct vessel_error **err);

/* Read and write ROOT/ID/state.json (write: temp file + rename). */
int state_read(int dirfd, struct container_state **out, struct vessel_error **err);
int state_write(int dirfd, const struct container_state *st, struct vessel_error **err);

/* /proc/PID/stat field 22 (start time in clock ticks) and state letter. */
int pid_stat_read(pid_t pid, uint64_t *start_time, char *state_letter);

/* True when st->pid is the very process recorded (alive, not a zombie, same start time). */
bool state_process_alive(const struct container_state *st);

/* The live status: stopped when the process is gone, created while the exec
 * fifo exists, running after; "creating" stays while the recorded status is. */
enum container_status state_status_compute(int dirfd, const struct container_state *st);

/* Open a pidfd for st->pid, checked against the recorded start time so a
 * reused pid is never signalled. -ESRCH when the process is gone. */
int state_pidfd_open(const struct container_state *st);

/* RFC 3339 UTC timestamp with nanoseconds, malloc'ed. */
char *timestamp_now(void);

#endif
