/* Errors travel as values: a fallible function returns a negative number and
 * fills a struct vessel_error; callers add context; only commands print. */
#ifndef VESSEL_COMMON_ERROR_H
#define VESSEL_COMMON_ERROR_H

struct vessel_error {
    int errnum;   /* errno value, 0 when the failure is not a system error */
    char *msg;    /* full message, without the "vessel: " prefix */
};

/* Fill *err with a message (plus ": strerror(errnum)" when errnum != 0).
 * Returns -errnum, or -1 when errnum is 0, so `return vessel_error_set(...)` works.
 * If *err already holds an error it is replaced. err may be NULL. */
int vessel_error_set(struct vessel_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing error with context: "CONTEXT: old message".
 * Returns the same negative value as vessel_error_set would have. */
int vessel_error_wrap(struct vessel_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The negative value matching *err (for returning it again). */
int vessel_error_code(const struct vessel_error *err);

void vessel_error_free(struct vessel_error *err);
void vessel_error_freep(struct vessel_error **err);
#define _cleanup_error_ __attribute__((cleanup(vessel_error_freep)))

#endif
