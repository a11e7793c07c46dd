/* Test guest cases, one function per device family; each prints TAP lines. */
#ifndef GUEST_CASES_H
#define GUEST_CASES_H

#include "vdrv.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

void cases_console(struct vdev *d);
void cases_blk(struct vdev *d);
void cases_rng(struct vdev *d);
void cases_hostile(struct vdev *rng, struct vdev *blk);

/* Shared by the blk and hostile cases: one request, synchronously. Returns the status byte,
 * or 0xff when the request did not complete, 0xfe when the device marked itself broken. */
uint8_t blk_request(struct vdev *d, struct gvq *q, uint32_t type, uint64_t sector, void *data, uint32_t len,
                    bool device_writes);
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2

#endif
