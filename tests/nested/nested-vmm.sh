#!/bin/busybox sh
# Runs one inner VMM of the nested test bed (installed as /bin/nested-vmm in the outer guest):
# nested-vmm CASE DIR, with the inner kernel command line in $INNER_CMDLINE; the inner serial
# port goes to stdout/stderr and the inner virtio-console port 0 to DIR/console.out.
# shellcheck shell=dash
c=$1 dir=$2
case "$c" in
    qemu)
        exec qemu-system-x86_64 -M microvm,rtc=off -accel kvm -cpu host -m 256 -smp 1 \
            -nodefaults -no-user-config -nographic -no-reboot -serial stdio \
            -kernel /guest/vmlinux -initrd /guest/inner.cpio.gz -append "$INNER_CMDLINE" \
            -drive id=d0,if=none,file=/guest/disk.img,format=raw,readonly=on \
            -device virtio-blk-device,drive=d0 \
            -device virtio-serial-device -chardev file,id=c0,path="$dir/console.out" \
            -device virtconsole,chardev=c0 \
            -object rng-random,id=r0,filename=/dev/urandom -device virtio-rng-device,rng=r0 ;;
    vmm-bzimage|vmm-elf)
        k=/guest/vmlinuz
        [ "$c" = vmm-elf ] && k=/guest/vmlinux
        exec vessel vmm --kernel "$k" --initrd /guest/inner.cpio.gz --cmdline "$INNER_CMDLINE" \
            --memory 256 --vcpus 1 --disk /guest/disk.img,ro --console "$dir/console.out" \
            --rng --debug ;;
    *) echo "nested-vmm: unknown case \"$c\"" >&2; exit 127 ;;
esac
