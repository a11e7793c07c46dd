/* `vessel list [-q] [--format table|json]`: every container under --root. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "runtime/commands.h"
#include "runtime/container.h"
#include "runtime/state_store.h"

static int row_cmp(const void *a, const void *b)
{
    return strcmp((*(struct container_state *const *)a)->id, (*(struct container_state *const *)b)->id);
}

static size_t rows_load(const char *root, struct container_state ***out)
{
    *out = NULL;
    _cleanup_closedir_ DIR *d = opendir(root);
    if (d == NULL)
        return 0;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        struct container_state *st = NULL;
        struct vessel_error *e = NULL;
        if (container_state_load(root, de->d_name, &st, &e) < 0) {
            vessel_error_free(e);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct container_state **r = realloc(*out, cap * sizeof(**out));
            if (r == NULL) {
                state_free(st);
                break;
            }
            *out = r;
        }
        (*out)[n++] = st;
    }
    if (n > 1)
        qsort(*out, n, sizeof(**out), row_cmp);
    return n;
}

static void print_table(struct container_state *const *rows, size_t n)
{
    size_t w[5] = {2, 3, 6, 6, 7};
    char pid[32];
    for (size_t i = 0; i < n; i++) {
        const struct container_state *s = rows[i];
        size_t l[5] = {strlen(s->id), (size_t)snprintf(pid, sizeof(pid), "%d", s->pid),
                       strlen(container_status_name(s->status)), strlen(s->bundle ? s->bundle : ""),
                       strlen(s->created ? s->created : "")};
        for (int k = 0; k < 5; k++)
            if (l[k] > w[k])
                w[k] = l[k];
    }
    for (int k = 0; k < 5; k++)
        w[k] = w[k] + 3 < 12 ? 12 : w[k] + 3;
    printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], "ID", (int)w[1], "PID", (int)w[2], "STATUS", (int)w[3],
           "BUNDLE", (int)w[4], "CREATED", "OWNER");
    for (size_t i = 0; i < n; i++) {
        const struct container_state *s = rows[i];
        snprintf(pid, sizeof(pid), "%d", s->pid);
        printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], s->id, (int)w[1], pid, (int)w[2],
               container_status_name(s->status), (int)w[3], s->bundle ? s->bundle : "", (int)w[4],
               s->created ? s->created : "", s->owner ? s->owner : "");
    }
}

int cmd_list(struct vessel_globals *g, int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'}, {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    bool quiet = false, json = false;
    int c;
    opterr = 0;
    optind = 0;  /* 0: glibc re-initializes (permutation) after main's "+" parse */
    while ((c = getopt_long(argc, argv, "qf:", opts, NULL)) != -1) {
        if (c == 'q')
            quiet = true;
        else if (c == 'f' && strcmp(optarg, "json") == 0)
            json = true;
        else if (c == 'f' && strcmp(optarg, "table") == 0)
            json = false;
        else if (c == 'f') {
            log_error("list: unknown format \"%s\" (table or json)", optarg);
            return 1;
        } else {
            log_error("list: unknown option \"%s\"", argv[optind - 1]);
            return 1;
        }
    }
    if (optind != argc) {
        log_error("list: usage: vessel list [-q] [--format table|json]");
        return 1;
    }
    struct container_state **rows = NULL;
    size_t n = rows_load(g->root, &rows);
    for (size_t i = 0; i < n; i++)
        if (rows[i]->status == STATUS_STOPPED)
            rows[i]->pid = 0;
    int rc = 0;
    if (quiet) {
        for (size_t i = 0; i < n; i++)
            puts(rows[i]->id);
    } else if (json) {
        fputs("[", stdout);
        for (size_t i = 0; i < n; i++) {
            char *s = NULL;
            struct vessel_error *e = NULL;
            if (state_to_oci_json(rows[i], &s, &e) < 0) {
                log_error_object(e);
                rc = 1;
                continue;
            }
            printf("%s%s", i ? "," : "", s);
            free(s);
        }
        puts("]");
    } else {
        print_table(rows, n);
    }
    for (size_t i = 0; i < n; i++)
        state_free(rows[i]);
    free(rows);
    return rc;
}
