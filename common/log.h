/* Logging for the command layer only: stderr plus an optional --log file,
 * as text or as one JSON object per line ({"level","msg","time"}). */
#ifndef VESSEL_COMMON_LOG_H
#define VESSEL_COMMON_LOG_H

#include "common/error.h"

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* path may be NULL (stderr only). json selects --log-format json. */
int log_init(const char *path, int json, int debug, struct vessel_error **err);
void log_close(void);
int log_debug_enabled(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Print an error object the way users see it ("vessel: msg") and free it. */
void log_error_object(struct vessel_error *err);

#endif
