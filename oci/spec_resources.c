/* config.json "linux.resources": parsed fully so create, update and the cgroup
 * drivers share one validated type. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/spec_internal.h"

#define BLKIO_WEIGHT_MIN 10
#define BLKIO_WEIGHT_MAX 1000

static int parse_device_rule(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_device_cgroup *d = out;
    bool present = false;
    TRY(json_read_bool(c, v, "allow", &d->allow, &present));
    if (!present)
        return json_cursor_key_error(c, "allow", "missing required field");
    int r = json_read_string(c, v, "type", false, &d->type);
    TRY(r);
    if (r > 0 && strcmp(d->type, "a") != 0 && strcmp(d->type, "c") != 0 && strcmp(d->type, "b") != 0)
        return json_cursor_key_error(c, "type", "unknown device type \"%s\" (expected a, c or b)", d->type);
    TRY(json_read_i64(c, v, "major", false, -1, INT64_MAX, &d->major, &d->has_major));
    TRY(json_read_i64(c, v, "minor", false, -1, INT64_MAX, &d->minor, &d->has_minor));
    r = json_read_string(c, v, "access", false, &d->access);
    TRY(r);
    if (r > 0) {
        const char *a = d->access;
        bool bad = a[0] == '\0' || strspn(a, "rwm") != strlen(a);
        for (const char *p = a; !bad && *p; p++)
            bad = strchr(p + 1, *p) != NULL;
        if (bad)
            return json_cursor_key_error(c, "access", "\"%s\" is not a combination of r, w and m", a);
    }
    return 0;
}

/* Sizes: a byte count, or -1 for unlimited. */
static int read_size(struct json_cursor *c, yajl_val v, const char *key, int64_t *out, bool *present)
{
    return json_read_i64(c, v, key, false, -1, INT64_MAX, out, present);
}

static int parse_memory(struct json_cursor *c, yajl_val v, struct oci_memory *m)
{
    TRY(read_size(c, v, "limit", &m->limit, &m->has_limit));
    TRY(read_size(c, v, "reservation", &m->reservation, &m->has_reservation));
    TRY(read_size(c, v, "swap", &m->swap, &m->has_swap));
    TRY(read_size(c, v, "kernel", &m->kernel, &m->has_kernel));
    TRY(read_size(c, v, "kernelTCP", &m->kernel_tcp, &m->has_kernel_tcp));
    TRY(json_read_u64(c, v, "swappiness", false, 100, &m->swappiness, &m->has_swappiness));
    TRY(json_read_bool(c, v, "disableOOMKiller", &m->disable_oom_killer, &m->has_disable_oom_killer));
    TRY(json_read_bool(c, v, "useHierarchy", &m->use_hierarchy, &m->has_use_hierarchy));
    TRY(json_read_bool(c, v, "checkBeforeUpdate", &m->check_before_update, &m->has_check_before_update));
    return 0;
}

static int parse_cpu(struct json_cursor *c, yajl_val v, struct oci_cpu *cpu)
{
    TRY(json_read_u64(c, v, "shares", false, UINT64_MAX, &cpu->shares, &cpu->has_shares));
    TRY(read_size(c, v, "quota", &cpu->quota, &cpu->has_quota));
    TRY(json_read_u64(c, v, "burst", false, UINT64_MAX, &cpu->burst, &cpu->has_burst));
    TRY(json_read_u64(c, v, "period", false, UINT64_MAX, &cpu->period, &cpu->has_period));
    TRY(read_size(c, v, "realtimeRuntime", &cpu->realtime_runtime, &cpu->has_realtime_runtime));
    TRY(json_read_u64(c, v, "realtimePeriod", false, UINT64_MAX, &cpu->realtime_period, &cpu->has_realtime_period));
    int r = json_read_string(c, v, "cpus", false, &cpu->cpus);
    TRY(r);
    if (r > 0 && cpu->cpus[0] != '\0')
        TRY(spec_check_cpu_list(c, "cpus", cpu->cpus));
    r = json_read_string(c, v, "mems", false, &cpu->mems);
    TRY(r);
    if (r > 0 && cpu->mems[0] != '\0')
        TRY(spec_check_cpu_list(c, "mems", cpu->mems));
    TRY(json_read_i64(c, v, "idle", false, 0, 1, &cpu->idle, &cpu->has_idle));
    return 0;
}

static int parse_pids(struct json_cursor *c, yajl_val v, struct oci_resources *r)
{
    return json_read_i64(c, v, "limit", true, -1, INT64_MAX, &r->pids_limit, &r->has_pids_limit);
}

static int read_weight(struct json_cursor *c, yajl_val v, const char *key, uint16_t *out, bool *present)
{
    int64_t w = 0;
    int r = json_read_i64(c, v, key, false, BLKIO_WEIGHT_MIN, BLKIO_WEIGHT_MAX, &w, present);
    if (r > 0)
        *out = (uint16_t)w;
    return r;
}

static int parse_weight_device(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_weight_device *d = out;
    TRY(json_read_i64(c, v, "major", true, 0, INT64_MAX, &d->major, NULL));
    TRY(json_read_i64(c, v, "minor", true, 0, INT64_MAX, &d->minor, NULL));
    TRY(read_weight(c, v, "weight", &d->weight, &d->has_weight));
    TRY(read_weight(c, v, "leafWeight", &d->leaf_weight, &d->has_leaf_weight));
    return 0;
}

static int parse_throttle_device(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_throttle_device *d = out;
    TRY(json_read_i64(c, v, "major", true, 0, INT64_MAX, &d->major, NULL));
    TRY(json_read_i64(c, v, "minor", true, 0, INT64_MAX, &d->minor, NULL));
    TRY(json_read_u64(c, v, "rate", true, UINT64_MAX, &d->rate, NULL));
    return 0;
}

static int read_throttle(struct json_cursor *c, yajl_val v, const char *key, struct oci_throttle_device **out,
                         size_t *len)
{
    return json_read_object_array(c, v, key, false, sizeof(**out), parse_throttle_device, (void **)out, len);
}

static int parse_blkio(struct json_cursor *c, yajl_val v, struct oci_blkio *b)
{
    TRY(read_weight(c, v, "weight", &b->weight, &b->has_weight));
    TRY(read_weight(c, v, "leafWeight", &b->leaf_weight, &b->has_leaf_weight));
    TRY(json_read_object_array(c, v, "weightDevice", false, sizeof(*b->weight_device), parse_weight_device,
                               (void **)&b->weight_device, &b->weight_device_len));
    TRY(read_throttle(c, v, "throttleReadBpsDevice", &b->throttle_read_bps, &b->throttle_read_bps_len));
    TRY(read_throttle(c, v, "throttleWriteBpsDevice", &b->throttle_write_bps, &b->throttle_write_bps_len));
    TRY(read_throttle(c, v, "throttleReadIOPSDevice", &b->throttle_read_iops, &b->throttle_read_iops_len));
    TRY(read_throttle(c, v, "throttleWriteIOPSDevice", &b->throttle_write_iops, &b->throttle_write_iops_len));
    return 0;
}

/* "2MB", "1GB", "64KB": what hugetlb.<size>.limit_in_bytes is named after. */
static bool page_size_valid(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || s[0] == '0')
        return false;
    return strcmp(s + digits, "KB") == 0 || strcmp(s + digits, "MB") == 0 || strcmp(s + digits, "GB") == 0;
}

static int parse_hugepage_limit(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_hugepage_limit *h = out;
    TRY(json_read_string(c, v, "pageSize", true, &h->page_size));
    if (!page_size_valid(h->page_size))
        return json_cursor_key_error(c, "pageSize", "\"%s\" is not a page size like \"2MB\"", h->page_size);
    TRY(json_read_u64(c, v, "limit", true, UINT64_MAX, &h->limit, NULL));
    return 0;
}

static int parse_net_priority(struct json_cursor *c, yajl_val v, void *out)
{
    struct oci_net_priority *p = out;
    TRY(json_read_string(c, v, "name", true, &p->name));
    TRY(json_read_u32(c, v, "priority", true, &p->priority, NULL));
    return 0;
}

static int parse_network(struct json_cursor *c, yajl_val v, struct oci_resources *r)
{
    TRY(json_read_u32(c, v, "classID", false, &r->net_class_id, &r->has_net_class_id));
    TRY(json_read_object_array(c, v, "priorities", false, sizeof(*r->net_priorities), parse_net_priority,
                               (void **)&r->net_priorities, &r->net_priorities_len));
    return 0;
}

/* rdma is accepted (validated) but not applied: keep "device" -> "hcaHandles=N hcaObjects=M"
 * (only the limits given). */
static int parse_rdma(struct json_cursor *c, yajl_val v, struct oci_resources *r)
{
    size_t n = v->u.object.len;
    if (n > OCI_SPEC_MAX_ITEMS)
        return json_cursor_error(c, "too many entries");
    r->rdma_unused = calloc(n + 1, sizeof(*r->rdma_unused));
    if (r->rdma_unused == NULL)
        return vessel_error_set(c->err, ENOMEM, "%s", c->path);
    for (size_t i = 0; i < n; i++) {
        const char *dev = v->u.object.keys[i];
        yajl_val e = v->u.object.values[i];
        if (!YAJL_IS_OBJECT(e))
            return json_cursor_key_error(c, dev, "expected an object, got %s", json_type_name(e));
        uint32_t handles = 0, objects = 0;
        bool has_handles = false, has_objects = false;
        size_t saved = json_cursor_enter_key(c, dev);
        int rr = json_read_u32(c, e, "hcaHandles", false, &handles, &has_handles);
        if (rr >= 0)
            rr = json_read_u32(c, e, "hcaObjects", false, &objects, &has_objects);
        json_cursor_leave(c, saved);
        TRY(rr);
        r->rdma_unused_len = i + 1;
        r->rdma_unused[i].key = strdup(dev);
        char buf[64] = "";
        if (has_handles)
            snprintf(buf, sizeof(buf), "hcaHandles=%u", handles);
        if (has_objects)
            snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%shcaObjects=%u", has_handles ? " " : "",
                     objects);
        r->rdma_unused[i].value = strdup(buf);
        if (r->rdma_unused[i].key == NULL || r->rdma_unused[i].value == NULL)
            return vessel_error_set(c->err, ENOMEM, "%s", c->path);
    }
    return 0;
}

/* cgroup v2 file names: one path component, no leading dot. */
static int check_unified_keys(struct json_cursor *c, const struct oci_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i].key;
        if (k[0] == '.' || strchr(k, '/') != NULL)
            return json_cursor_key_error(c, "unified", "invalid cgroup file name \"%s\"", k);
    }
    return 0;
}

int spec_parse_resources(struct json_cursor *c, yajl_val v, struct oci_resources *r)
{
    TRY(json_read_object_array(c, v, "devices", false, sizeof(*r->devices), parse_device_rule,
                               (void **)&r->devices, &r->devices_len));
    TRY_SECTION(c, v, "memory", false, parse_memory, &r->memory);
    TRY_SECTION(c, v, "cpu", false, parse_cpu, &r->cpu);
    TRY_SECTION(c, v, "pids", false, parse_pids, r);
    TRY_SECTION(c, v, "blockIO", false, parse_blkio, &r->blkio);
    TRY(json_read_object_array(c, v, "hugepageLimits", false, sizeof(*r->hugepage_limits), parse_hugepage_limit,
                               (void **)&r->hugepage_limits, &r->hugepage_limits_len));
    TRY_SECTION(c, v, "network", false, parse_network, r);
    TRY_SECTION(c, v, "rdma", false, parse_rdma, r);
    TRY(json_read_string_map(c, v, "unified", &r->unified, &r->unified_len));
    TRY(check_unified_keys(c, r->unified, r->unified_len));
    r->present = true;
    return 0;
}

void spec_free_resources(struct oci_resources *r)
{
    for (size_t i = 0; r->devices != NULL && i < r->devices_len; i++) {
        free(r->devices[i].type);
        free(r->devices[i].access);
    }
    free(r->devices);
    free(r->cpu.cpus);
    free(r->cpu.mems);
    free(r->blkio.weight_device);
    free(r->blkio.throttle_read_bps);
    free(r->blkio.throttle_write_bps);
    free(r->blkio.throttle_read_iops);
    free(r->blkio.throttle_write_iops);
    for (size_t i = 0; r->hugepage_limits != NULL && i < r->hugepage_limits_len; i++)
        free(r->hugepage_limits[i].page_size);
    free(r->hugepage_limits);
    for (size_t i = 0; r->net_priorities != NULL && i < r->net_priorities_len; i++)
        free(r->net_priorities[i].name);
    free(r->net_priorities);
    json_free_kv(r->rdma_unused, r->rdma_unused_len);
    json_free_kv(r->unified, r->unified_len);
}
