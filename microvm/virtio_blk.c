/* virtio-blk (device id 2) on a raw image file: read, write, flush (fdatasync), discard
 * and write-zeroes (fallocate), get-id, read-only. Requests run on the event-loop thread. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "microvm/virtio.h"

#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define BLK_SECTOR 512ULL
#define BLK_MAX_RANGES 16
#define BLK_MAX_RANGE_SECTORS (1U << 22) /* 2 GiB per discard / write-zeroes range */
#define BLK_WRITE_ZEROES_UNMAP 1

struct blk_config {
    uint64_t capacity;
    uint32_t size_max;
    uint32_t seg_max;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;
    uint32_t blk_size;
    uint8_t physical_block_exp;
    uint8_t alignment_offset;
    uint16_t min_io_size;
    uint32_t opt_io_size;
    uint8_t writeback;
    uint8_t unused0;
    uint16_t num_queues;
    uint32_t max_discard_sectors;
    uint32_t max_discard_seg;
    uint32_t discard_sector_alignment;
    uint32_t max_write_zeroes_sectors;
    uint32_t max_write_zeroes_seg;
    uint8_t write_zeroes_may_unmap;
    uint8_t unused1[3];
} __attribute__((packed));

struct blk_req_header {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct blk_range {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
};

struct virtio_blk {
    struct virtio_mmio *t;
    struct virtio_device_ops ops;
    int fd;
    bool readonly;
    uint64_t sectors;
    char id[VIRTIO_BLK_ID_BYTES];
    struct blk_config config;
};

/* Select bytes [offset, offset+len) of iov[0..n) into out (at most VIRTQ_CHAIN_MAX). */
static unsigned iov_slice(const struct iovec *iov, unsigned n, uint64_t offset, uint64_t len,
                          struct iovec *out)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n && len > 0; i++) {
        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        uint64_t take = iov[i].iov_len - offset;
        if (take > len)
            take = len;
        out[k].iov_base = (char *)iov[i].iov_base + offset;
        out[k].iov_len = take;
        k++;
        len -= take;
        offset = 0;
    }
    return k;
}

/* preadv/pwritev the whole vector, retrying short transfers; a read past the end of the
 * file reads zeros. Returns 0 or -errno. */
static int blk_io(int fd, struct iovec *iov, unsigned n, uint64_t off, bool write)
{
    while (n > 0) {
        if (iov->iov_len == 0) {
            iov++, n--;
            continue;
        }
        ssize_t r = write ? pwritev(fd, iov, (int)n, (off_t)off) : preadv(fd, iov, (int)n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0) {
            if (write)
                return -EIO;
            for (unsigned i = 0; i < n; i++)
                memset(iov[i].iov_base, 0, iov[i].iov_len);
            return 0;
        }
        off += (uint64_t)r;
        virtq_iov_advance(&iov, &n, (size_t)r);
    }
    return 0;
}

static bool blk_range_ok(const struct virtio_blk *blk, uint64_t sector, uint64_t count)
{
    return sector <= blk->sectors && count <= blk->sectors - sector;
}

static uint8_t blk_zero_range(struct virtio_blk *blk, uint64_t off, uint64_t len, bool unmap)
{
    if (!unmap && fallocate(blk->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return VIRTIO_BLK_S_OK;
    if (fallocate(blk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return VIRTIO_BLK_S_OK;
    static const char zeros[65536];
    while (len > 0) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        ssize_t w = pwrite(blk->fd, zeros, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return VIRTIO_BLK_S_IOERR;
        off += (uint64_t)w;
        len -= (uint64_t)w;
    }
    return VIRTIO_BLK_S_OK;
}

static uint8_t blk_ranges(struct virtio_blk *blk, const struct virtq_chain *c, uint32_t type)
{
    uint64_t bytes = c->out_len - sizeof(struct blk_req_header);
    if (blk->readonly)
        return VIRTIO_BLK_S_IOERR;
    if (bytes == 0 || bytes % sizeof(struct blk_range) != 0 ||
        bytes / sizeof(struct blk_range) > BLK_MAX_RANGES)
        return VIRTIO_BLK_S_UNSUPP;
    for (uint64_t i = 0; i < bytes / sizeof(struct blk_range); i++) {
        struct blk_range range;
        (void)virtq_chain_read(c, sizeof(struct blk_req_header) + i * sizeof(range), &range, sizeof(range));
        bool unmap = type == VIRTIO_BLK_T_DISCARD || (range.flags & BLK_WRITE_ZEROES_UNMAP);
        if ((range.flags & ~(uint32_t)BLK_WRITE_ZEROES_UNMAP) != 0 ||
            (type == VIRTIO_BLK_T_DISCARD && range.flags != 0))
            return VIRTIO_BLK_S_UNSUPP;
        if (range.num_sectors > BLK_MAX_RANGE_SECTORS || !blk_range_ok(blk, range.sector, range.num_sectors))
            return VIRTIO_BLK_S_IOERR;
        uint64_t off = range.sector * BLK_SECTOR, len = range.num_sectors * BLK_SECTOR;
        if (len == 0)
            continue;
        if (type == VIRTIO_BLK_T_DISCARD) {
            /* Discard is a hint: a file system without hole punching still succeeds. */
            (void)fallocate(blk->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
        } else if (blk_zero_range(blk, off, len, unmap) != VIRTIO_BLK_S_OK) {
            return VIRTIO_BLK_S_IOERR;
        }
    }
    return VIRTIO_BLK_S_OK;
}

/* Serve one request; returns its status and sets *written (bytes put in writable buffers,
 * the status byte excluded). */
static uint8_t blk_request(struct virtio_blk *blk, const struct virtq_chain *c, uint32_t *written)
{
    struct blk_req_header h;
    struct iovec sub[VIRTQ_CHAIN_MAX];
    uint64_t data_in = c->in_len - 1; /* writable bytes before the status byte */
    *written = 0;
    if (c->out_len < sizeof(h))
        return VIRTIO_BLK_S_IOERR;
    (void)virtq_chain_read(c, 0, &h, sizeof(h));
    switch (h.type) {
    case VIRTIO_BLK_T_IN: {
        if (data_in % BLK_SECTOR != 0 || !blk_range_ok(blk, h.sector, data_in / BLK_SECTOR))
            return VIRTIO_BLK_S_IOERR;
        unsigned n = iov_slice(c->iov + c->n_out, c->n_in, 0, data_in, sub);
        if (blk_io(blk->fd, sub, n, h.sector * BLK_SECTOR, false) < 0)
            return VIRTIO_BLK_S_IOERR;
        *written = (uint32_t)data_in;
        return VIRTIO_BLK_S_OK;
    }
    case VIRTIO_BLK_T_OUT: {
        uint64_t len = c->out_len - sizeof(h);
        if (blk->readonly || len % BLK_SECTOR != 0 || !blk_range_ok(blk, h.sector, len / BLK_SECTOR))
            return VIRTIO_BLK_S_IOERR;
        unsigned n = iov_slice(c->iov, c->n_out, sizeof(h), len, sub);
        if (blk_io(blk->fd, sub, n, h.sector * BLK_SECTOR, true) < 0)
            return VIRTIO_BLK_S_IOERR;
        return VIRTIO_BLK_S_OK;
    }
    case VIRTIO_BLK_T_FLUSH:
        if (!blk->readonly && fdatasync(blk->fd) < 0)
            return VIRTIO_BLK_S_IOERR;
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_GET_ID: {
        size_t n = data_in < VIRTIO_BLK_ID_BYTES ? (size_t)data_in : VIRTIO_BLK_ID_BYTES;
        *written = (uint32_t)virtq_chain_write(c, 0, blk->id, n);
        return VIRTIO_BLK_S_OK;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        return blk_ranges(blk, c, h.type);
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
}

static void blk_queue_notify(void *opaque, unsigned q)
{
    struct virtio_blk *blk = opaque;
    struct virtq *vq = virtio_mmio_queue(blk->t, q);
    struct virtq_chain chain;
    int r;
    if (vq == NULL)
        return;
    while ((r = virtq_pop(vq, &chain)) > 0) {
        if (chain.in_len == 0) {
            /* No room for a status byte: the request fails without a status. */
            virtq_push(vq, chain.head, 0);
            continue;
        }
        uint32_t written;
        uint8_t status = blk_request(blk, &chain, &written);
        (void)virtq_chain_write(&chain, chain.in_len - 1, &status, 1);
        virtq_push(vq, chain.head, written + 1);
    }
    if (r < 0)
        virtio_mmio_set_broken(blk->t, "blk: bad descriptor chain");
    virtio_mmio_queue_interrupt(blk->t, q);
}

static int blk_open(struct virtio_blk *blk, const char *path, struct vessel_error **err)
{
    _cleanup_close_ int fd = open(path, (blk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return vessel_error_set(err, errno, "open disk \"%s\"", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return vessel_error_set(err, errno, "stat disk \"%s\"", path);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return vessel_error_set(err, EINVAL, "disk \"%s\": not a file or block device", path);
    /* Two writers on one image corrupt it: take the lock as a user of the file would. */
    if (flock(fd, (blk->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
        return vessel_error_set(err, errno, "lock disk \"%s\" (in use by another VM?)", path);
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0)
        return vessel_error_set(err, errno, "size of disk \"%s\"", path);
    blk->sectors = (uint64_t)end / BLK_SECTOR;
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    /* The id is the image's file name (up to 20 bytes, NUL-padded), so guests can find
     * the disk as /dev/disk/by-id/virtio-NAME. */
    memcpy(blk->id, base, strnlen(base, sizeof(blk->id)));
    blk->fd = steal_fd(&fd);
    return 0;
}

int virtio_blk_create(struct vm *vm, const char *path, bool readonly, struct vessel_error **err)
{
    struct virtio_blk *blk = calloc(1, sizeof(*blk));
    if (blk == NULL)
        return vessel_error_set(err, ENOMEM, "virtio blk");
    blk->readonly = readonly;
    blk->fd = -1;
    int r = blk_open(blk, path, err);
    if (r < 0) {
        free(blk);
        return r;
    }
    blk->config.capacity = blk->sectors;
    blk->config.seg_max = VIRTQ_CHAIN_MAX - 2;
    blk->config.blk_size = BLK_SECTOR;
    blk->config.num_queues = 1;
    blk->config.max_discard_sectors = BLK_MAX_RANGE_SECTORS;
    blk->config.max_discard_seg = BLK_MAX_RANGES;
    blk->config.discard_sector_alignment = 1;
    blk->config.max_write_zeroes_sectors = BLK_MAX_RANGE_SECTORS;
    blk->config.max_write_zeroes_seg = BLK_MAX_RANGES;
    blk->config.write_zeroes_may_unmap = 1;
    blk->ops = (struct virtio_device_ops){
        .name = "blk",
        .device_id = VIRTIO_ID_BLOCK,
        .features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
                    (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_DISCARD) |
                    (1ULL << VIRTIO_BLK_F_WRITE_ZEROES) | (readonly ? 1ULL << VIRTIO_BLK_F_RO : 0),
        .num_queues = 1,
        .queue_notify = blk_queue_notify,
    };
    r = virtio_mmio_create(vm, &blk->ops, blk, &blk->config, sizeof(blk->config), &blk->t, err);
    if (r < 0)
        return vessel_error_wrap(err, "disk \"%s\"", path); /* blk stays: see virtio_mmio_create */
    return 0;
}
