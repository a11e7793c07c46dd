/* config.json mount options -> mount(2) flags, propagation, recursive
 * mount_setattr attributes and the filesystem data string. */
#include "namespaces/namespaces.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

#define MAX_MOUNT_DATA 4096  /* one page: what mount(2) copies of the data */

enum option_kind { OPT_FLAG, OPT_PROPAGATION, OPT_ATTR, OPT_ATIME_ATTR, OPT_IDMAP, OPT_RIDMAP,
                   OPT_TMPCOPYUP };

struct mount_option {
    const char *name;
    enum option_kind kind;
    unsigned long set;    /* OPT_FLAG: MS_* to set; OPT_PROPAGATION: the flags; OPT_ATTR: attr */
    unsigned long clear;  /* OPT_FLAG: MS_* to clear; OPT_ATTR: attr to clear */
};

/* Same order and names as oci/vocab.h's oci_mount_option_names. */
static const struct mount_option options_table[] = {
    {"defaults", OPT_FLAG, 0, 0},
    {"ro", OPT_FLAG, MS_RDONLY, 0},
    {"rw", OPT_FLAG, 0, MS_RDONLY},
    {"suid", OPT_FLAG, 0, MS_NOSUID},
    {"nosuid", OPT_FLAG, MS_NOSUID, 0},
    {"dev", OPT_FLAG, 0, MS_NODEV},
    {"nodev", OPT_FLAG, MS_NODEV, 0},
    {"exec", OPT_FLAG, 0, MS_NOEXEC},
    {"noexec", OPT_FLAG, MS_NOEXEC, 0},
    {"sync", OPT_FLAG, MS_SYNCHRONOUS, 0},
    {"async", OPT_FLAG, 0, MS_SYNCHRONOUS},
    {"dirsync", OPT_FLAG, MS_DIRSYNC, 0},
    {"remount", OPT_FLAG, MS_REMOUNT, 0},
    {"mand", OPT_FLAG, MS_MANDLOCK, 0},
    {"nomand", OPT_FLAG, 0, MS_MANDLOCK},
    {"atime", OPT_FLAG, 0, MS_NOATIME},
    {"noatime", OPT_FLAG, MS_NOATIME, 0},
    {"diratime", OPT_FLAG, 0, MS_NODIRATIME},
    {"nodiratime", OPT_FLAG, MS_NODIRATIME, 0},
    {"relatime", OPT_FLAG, MS_RELATIME, 0},
    {"norelatime", OPT_FLAG, 0, MS_RELATIME},
    {"strictatime", OPT_FLAG, MS_STRICTATIME, 0},
    {"nostrictatime", OPT_FLAG, 0, MS_STRICTATIME},
    {"lazytime", OPT_FLAG, MS_LAZYTIME, 0},
    {"nolazytime", OPT_FLAG, 0, MS_LAZYTIME},
    {"silent", OPT_FLAG, MS_SILENT, 0},
    {"loud", OPT_FLAG, 0, MS_SILENT},
    {"iversion", OPT_FLAG, MS_I_VERSION, 0},
    {"noiversion", OPT_FLAG, 0, MS_I_VERSION},
    {"bind", OPT_FLAG, MS_BIND, 0},
    {"rbind", OPT_FLAG, MS_BIND | MS_REC, 0},
    {"private", OPT_PROPAGATION, MS_PRIVATE, 0},
    {"rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC, 0},
    {"shared", OPT_PROPAGATION, MS_SHARED, 0},
    {"rshared", OPT_PROPAGATION, MS_SHARED | MS_REC, 0},
    {"slave", OPT_PROPAGATION, MS_SLAVE, 0},
    {"rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC, 0},
    {"unbindable", OPT_PROPAGATION, MS_UNBINDABLE, 0},
    {"runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC, 0},
    {"rro", OPT_ATTR, MOUNT_ATTR_RDONLY, 0},
    {"rrw", OPT_ATTR, 0, MOUNT_ATTR_RDONLY},
    {"rsuid", OPT_ATTR, 0, MOUNT_ATTR_NOSUID},
    {"rnosuid", OPT_ATTR, MOUNT_ATTR_NOSUID, 0},
    {"rdev", OPT_ATTR, 0, MOUNT_ATTR_NODEV},
    {"rnodev", OPT_ATTR, MOUNT_ATTR_NODEV, 0},
    {"rexec", OPT_ATTR, 0, MOUNT_ATTR_NOEXEC},
    {"rnoexec", OPT_ATTR, MOUNT_ATTR_NOEXEC, 0},
    /* The atime attributes are one enum in the kernel: each replaces the others.
     * ratime, rnorelatime and rnostrictatime go back to the default, relatime. */
    {"ratime", OPT_ATIME_ATTR, MOUNT_ATTR_RELATIME, 0},
    {"rnoatime", OPT_ATIME_ATTR, MOUNT_ATTR_NOATIME, 0},
    {"rdiratime", OPT_ATTR, 0, MOUNT_ATTR_NODIRATIME},
    {"rnodiratime", OPT_ATTR, MOUNT_ATTR_NODIRATIME, 0},
    {"rrelatime", OPT_ATIME_ATTR, MOUNT_ATTR_RELATIME, 0},
    {"rnorelatime", OPT_ATIME_ATTR, MOUNT_ATTR_RELATIME, 0},
    {"rstrictatime", OPT_ATIME_ATTR, MOUNT_ATTR_STRICTATIME, 0},
    {"rnostrictatime", OPT_ATIME_ATTR, MOUNT_ATTR_RELATIME, 0},
    {"idmap", OPT_IDMAP, 0, 0},
    {"ridmap", OPT_RIDMAP, 0, 0},
    {"tmpcopyup", OPT_TMPCOPYUP, 0, 0},
};

#define OPTION_COUNT (sizeof(options_table) / sizeof(options_table[0]))

static const char *const *option_names(void)
{
    static const char *names[OPTION_COUNT];
    if (names[0] == NULL)
        for (size_t i = 0; i < OPTION_COUNT; i++)
            names[i] = options_table[i].name;
    return names;
}

const char *const *namespaces_supported_mount_options(size_t *n)
{
    *n = OPTION_COUNT;
    return option_names();
}

static const struct mount_option *option_find(const char *name)
{
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strcmp(options_table[i].name, name) == 0)
            return &options_table[i];
    return NULL;
}

static void option_apply(const struct mount_option *o, struct mount_flags *out)
{
    switch (o->kind) {
    case OPT_FLAG:
        out->flags = (out->flags & ~o->clear) | o->set;
        out->clear = (out->clear & ~o->set) | o->clear;
        /* An atime mode replaces the other atime modes, like mount(8). */
        if (o->set & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
            out->flags &= ~((MS_NOATIME | MS_RELATIME | MS_STRICTATIME) & ~o->set);
        break;
    case OPT_PROPAGATION:
        out->propagation = o->set;
        break;
    case OPT_ATTR:
        out->attr_set = (out->attr_set & ~o->clear) | o->set;
        out->attr_clr = (out->attr_clr & ~o->set) | o->clear;
        out->recursive_attrs = true;
        break;
    case OPT_ATIME_ATTR:
        out->attr_set = (out->attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | o->set;
        out->attr_clr |= MOUNT_ATTR__ATIME;
        out->recursive_attrs = true;
        break;
    case OPT_IDMAP:
        out->idmap = true;
        break;
    case OPT_RIDMAP:
        out->idmap = true;
        out->idmap_recursive = true;
        break;
    case OPT_TMPCOPYUP:
        out->tmpcopyup = true;
        break;
    }
}

int mount_options_parse(char **options, size_t n, struct mount_flags *out, struct vessel_error **err)
{
    struct mount_flags f = {0};
    size_t data_len = 0;
    char *data = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *opt = options[i];
        if (opt == NULL || *opt == '\0')
            continue;
        const struct mount_option *o = option_find(opt);
        if (o != NULL) {
            option_apply(o, &f);
            continue;
        }
        /* x-*: userspace-only options (mount(8) semantics), never for the kernel. */
        if (strncmp(opt, "x-", 2) == 0)
            continue;
        size_t len = strlen(opt);
        if (data_len + len + 2 > MAX_MOUNT_DATA) {
            free(data);
            return vessel_error_set(err, E2BIG, "mount options: data longer than %d bytes",
                                    MAX_MOUNT_DATA);
        }
        char *nd = realloc(data, data_len + len + 2);
        if (nd == NULL) {
            free(data);
            return vessel_error_set(err, ENOMEM, "mount options");
        }
        data = nd;
        if (data_len > 0)
            data[data_len++] = ',';
        memcpy(data + data_len, opt, len + 1);
        data_len += len;
    }
    f.data = data;
    *out = f;
    return 0;
}

void mount_flags_free(struct mount_flags *f)
{
    if (f == NULL)
        return;
    free(f->data);
    f->data = NULL;
}
