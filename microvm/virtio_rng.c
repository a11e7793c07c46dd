/* virtio-rng (device id 4): fills the driver's writable buffers from getrandom(2). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "microvm/virtio.h"

/* Bytes served per request, whatever the driver offers: bounds the time spent per chain. */
#define RNG_MAX_PER_REQUEST 65536

struct virtio_rng {
    struct virtio_mmio *t;
};

static size_t rng_fill(const struct virtq_chain *chain)
{
    size_t done = 0;
    for (unsigned k = chain->n_out; k < chain->n_out + chain->n_in; k++) {
        char *p = chain->iov[k].iov_base;
        size_t len = chain->iov[k].iov_len;
        if (len > RNG_MAX_PER_REQUEST - done)
            len = RNG_MAX_PER_REQUEST - done;
        size_t got = 0;
        while (got < len) {
            ssize_t n = getrandom(p + got, len - got, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return done + got;
            got += (size_t)n;
        }
        done += got;
        if (done == RNG_MAX_PER_REQUEST)
            break;
    }
    return done;
}

static void rng_queue_notify(void *opaque, unsigned q)
{
    struct virtio_rng *rng = opaque;
    struct virtq *vq = virtio_mmio_queue(rng->t, q);
    struct virtq_chain chain;
    int r;
    if (vq == NULL)
        return;
    while ((r = virtq_pop(vq, &chain)) > 0)
        virtq_push(vq, chain.head, (uint32_t)rng_fill(&chain));
    if (r < 0)
        virtio_mmio_set_broken(rng->t, "rng: bad descriptor chain");
    virtio_mmio_queue_interrupt(rng->t, q);
}

static const struct virtio_device_ops rng_ops = {
    .name = "rng",
    .device_id = VIRTIO_ID_RNG,
    .features = 0,
    .num_queues = 1,
    .queue_notify = rng_queue_notify,
};

int virtio_rng_create(struct vm *vm, struct vessel_error **err)
{
    struct virtio_rng *rng = calloc(1, sizeof(*rng));
    if (rng == NULL)
        return vessel_error_set(err, ENOMEM, "virtio rng");
    int r = virtio_mmio_create(vm, &rng_ops, rng, NULL, 0, &rng->t, err);
    if (r < 0)
        return r; /* rng stays allocated: the transport may already point at it */
    return 0;
}
