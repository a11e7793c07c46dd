/* Error objects: construction, wrapping with context, release. */
#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int error_return_value(int errnum)
{
    return errnum > 0 ? -errnum : -1;
}

int vessel_error_set(struct vessel_error **err, int errnum, const char *fmt, ...)
{
    if (err == NULL)
        return error_return_value(errnum);
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg = NULL;
    if (msg != NULL && errnum > 0) {
        char *full = NULL;
        if (asprintf(&full, "%s: %s", msg, strerror(errnum)) >= 0) {
            free(msg);
            msg = full;
        }
    }
    struct vessel_error *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        free(msg);
        return error_return_value(errnum);
    }
    e->errnum = errnum;
    e->msg = msg != NULL ? msg : strdup("out of memory");
    vessel_error_free(*err);
    *err = e;
    return error_return_value(errnum);
}

int vessel_error_wrap(struct vessel_error **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;
    char *ctx = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&ctx, fmt, ap);
    va_end(ap);
    if (n >= 0) {
        char *full = NULL;
        if (asprintf(&full, "%s: %s", ctx, (*err)->msg ? (*err)->msg : "") >= 0) {
            free((*err)->msg);
            (*err)->msg = full;
        }
        free(ctx);
    }
    return error_return_value((*err)->errnum);
}

int vessel_error_code(const struct vessel_error *err)
{
    return err == NULL ? -1 : error_return_value(err->errnum);
}

void vessel_error_free(struct vessel_error *err)
{
    if (err == NULL)
        return;
    free(err->msg);
    free(err);
}

void vessel_error_freep(struct vessel_error **err)
{
    if (err != NULL) {
        vessel_error_free(*err);
        *err = NULL;
    }
}
