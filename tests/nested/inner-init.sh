#!/bin/busybox sh
# /init of the inner guest in the nested test bed: proves the VMM's devices with the stock kernel
# (virtio-console, virtio-blk with an ext4 file, virtio-rng) and reports on hvc0 and ttyS0.
# shellcheck shell=dash
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The benchmark measures VMM start to this line on the serial port.
echo "INNER-INIT" > /dev/ttyS0

say() {
    echo "INNER $*" > /dev/ttyS0
    [ -c /dev/hvc0 ] && echo "INNER $*" > /dev/hvc0
}
for m in $(cat /lib/modules/load-order); do
    insmod "$m" 2> /tmp/insmod.err || echo "INNER insmod $m failed: $(cat /tmp/insmod.err)" > /dev/ttyS0
done
# Device nodes appear asynchronously after probing.
i=0
while [ $i -lt 50 ] && { [ ! -c /dev/hvc0 ] || [ ! -b /dev/vda ] || [ ! -c /dev/hwrng ]; }; do
    sleep 0.1; i=$((i + 1))
done

if [ -c /dev/hvc0 ]; then
    echo "INNER console-marker 7c3e9f" > /dev/hvc0
    say "console ok"
else
    say "console missing: no /dev/hvc0"
fi

mkdir -p /mnt
if [ ! -b /dev/vda ]; then
    say "blk missing: no /dev/vda"
elif ! mount -t ext4 -o ro /dev/vda /mnt 2> /tmp/mount.err; then
    say "blk mount failed: $(cat /tmp/mount.err)"
else
    say "blk file: $(cat /mnt/hello.txt)"
    umount /mnt
fi

rng=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
bytes=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
say "rng current=$rng bytes=$bytes"
say "done"
sync
poweroff -f
