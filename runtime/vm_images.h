/* Per-container micro-VM images: the rootfs as an ext4 image (made with
 * `mkfs.ext4 -d`, cached by content) and the initramfs carrying config.json. */
#ifndef VESSEL_RUNTIME_VM_IMAGES_H
#define VESSEL_RUNTIME_VM_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define VM_IMAGE_ROOTFS "rootfs.img"   /* in the container's state dir */
#define VM_IMAGE_INITRD "initrd.img"
#define VM_IMAGE_CACHE_KEEP 8          /* cached rootfs images kept (least recently used go) */
#define VM_IMAGE_MAX_LISTING (64u << 20)

/* Cache directory: $VESSEL_VM_CACHE, else /var/cache/vessel/vm-images for root,
 * else $XDG_CACHE_HOME (or ~/.cache)/vessel/vm-images. */
int vm_image_cache_dir(char **out, struct vessel_error **err);

/* Make STATE_DIR/rootfs.img from the rootfs tree. The cache key is a listing of the
 * tree (path, type, mode, owner, size, mtime, ctime, link target) whose hash names the
 * cache entry; a hit also compares the full listing, so a hash collision is a miss.
 * Read-only roots get a hard link to the cached image when possible; writable ones a
 * reflink or a sparse copy, never the cached file itself. */
int vm_image_rootfs(const char *rootfs, const char *state_dir, bool readonly, char **out_path,
                    struct vessel_error **err);

/* Make STATE_DIR/initrd.img: the base initramfs followed by a newc cpio holding
 * /bundle/config.json with the given bytes (the kernel unpacks concatenated archives). */
int vm_image_initrd(const char *base_initrd, const char *config, size_t config_len, const char *state_dir,
                    char **out_path, struct vessel_error **err);

/* Append a newc cpio archive with one directory and one file to buf (exported for tests).
 * Returns the archive size or -errno. */
int cpio_newc_single(const char *dir, const char *file, const void *data, size_t len, unsigned mode,
                     char **out, size_t *out_len);

#endif
