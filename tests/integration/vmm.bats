#!/usr/bin/env bats
# `vessel vmm`: argument checking, kernel loading errors, and how each way a guest
# can end maps to an exit status, using tiny guests assembled here (ELF and bzImage).
# Booting the full test guest (virtio devices) is tests/guest/run.sh's job.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
VESSEL_BIN="${VESSEL_BIN:-$REPO_ROOT/build/vessel}"

vmm() {
    "$VESSEL_BIN" vmm "$@"
}

# The guest acts on the first character of its command line (boot_params+0x228):
# p power off (ACPI S5), s print on COM1 then power off, e exit code 42 on port 0x501,
# h cli;hlt, l idle forever with interrupts on, t triple fault, r i8042 reset,
# a ACPI reset register, m read unmapped MMIO (exit 7 if all ones), c report the
# logical CPU count from CPUID.1 as the exit code, i report the initrd's first byte,
# d report CPUID.1 ECX bit 24 (TSC-deadline) as exit code 20 + bit, v report CPUID
# 0x80000007 EDX bit 8 (invariant TSC) as exit code 30 + bit, b print the CPUID
# vendor (leaf 0) and brand string (0x80000002..4) on COM1 as "VENDOR:BRAND" then power off.
write_guest_source() {
    cat > "$1" <<'EOF'
    .code64
    .text
    .globl _start
_start:
    mov %rsi, %r12               /* boot_params */
    mov 0x228(%rsi), %ebx        /* hdr.cmd_line_ptr */
    movzbl (%rbx), %eax
    cmp $'p', %al; je poweroff
    cmp $'s', %al; je hello
    cmp $'e', %al; je exitcode
    cmp $'h', %al; je halt
    cmp $'l', %al; je idle
    cmp $'t', %al; je triple
    cmp $'r', %al; je reset
    cmp $'a', %al; je acpireset
    cmp $'m', %al; je mmio
    cmp $'c', %al; je cpus
    cmp $'i', %al; je initrd
    cmp $'d', %al; je deadline
    cmp $'b', %al; je brand
    cmp $'v', %al; je invtsc
    jmp exitcode
hello:
    lea msg(%rip), %rsi
    mov $0x3f8, %dx
1:  lodsb
    test %al, %al
    jz poweroff
    out %al, %dx
    jmp 1b
poweroff:
    mov $0x600, %dx
    mov $0x34, %al               /* SLP_EN | SLP_TYP(5) << 2 */
    out %al, %dx
    jmp halt
exitcode:
    mov $42, %al
report:
    mov $0x501, %dx
    out %al, %dx
halt:
    cli
2:  hlt
    jmp 2b
idle:
    sti
3:  hlt
    jmp 3b
triple:
    lidt zero_idtr(%rip)
    int3
    jmp halt
reset:
    mov $0xfe, %al
    out %al, $0x64
    jmp halt
acpireset:
    mov $0x604, %dx
    mov $1, %al
    out %al, %dx
    jmp halt
mmio:
    mov $0xd0fff000, %rax
    mov (%rax), %eax
    cmp $0xffffffff, %eax
    mov $7, %al
    je report
    mov $8, %al
    jmp report
cpus:
    mov $1, %eax
    cpuid
    shr $16, %ebx
    mov %bl, %al
    jmp report
initrd:
    mov 0x218(%r12), %edi        /* hdr.ramdisk_image */
    mov 0x21c(%r12), %ecx        /* hdr.ramdisk_size */
    mov $9, %al
    test %ecx, %ecx
    jz report
    mov (%rdi), %al
    jmp report
deadline:
    mov $1, %eax
    cpuid
    shr $24, %ecx
    and $1, %ecx
    lea 20(%rcx), %eax
    jmp report
invtsc:
    mov $0x80000007, %eax
    cpuid
    shr $8, %edx
    and $1, %edx
    lea 30(%rdx), %eax
    jmp report
brand:
    sub $64, %rsp
    mov %rsp, %rdi
    xor %eax, %eax
    cpuid
    mov %ebx, (%rdi)
    mov %edx, 4(%rdi)
    mov %ecx, 8(%rdi)
    movb $':', 12(%rdi)
    add $13, %rdi
    mov $0x80000002, %r8d
4:  mov %r8d, %eax
    cpuid
    mov %eax, (%rdi)
    mov %ebx, 4(%rdi)
    mov %ecx, 8(%rdi)
    mov %edx, 12(%rdi)
    add $16, %rdi
    inc %r8d
    cmp $0x80000005, %r8d
    jne 4b
    movw $'\n', (%rdi)          /* newline, NUL */
    mov %rsp, %rsi
    mov $0x3f8, %dx
5:  lodsb
    test %al, %al
    jz poweroff
    out %al, %dx
    jmp 5b
    .section .rodata
msg: .asciz "hello from the guest\n"
    .balign 8
zero_idtr: .word 0
    .quad 0
EOF
}

# A bzImage around the same code: boot sector + 1 setup sector carrying the x86 boot
# header (protocol 2.15, 64-bit entry), then the protected-mode part whose startup_64
# is at offset 0x200 (the guest code is linked at 0x100200).
make_bzimage() {  # OUT CODE_BIN VERSION CMDLINE_SIZE
    python3 - "$@" <<'EOF'
import struct, sys
out, code, version, cmdline_size = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4], 0)
setup = bytearray(1024)
setup[0x1f1] = 1                                   # setup_sects
struct.pack_into('<H', setup, 0x1fe, 0xaa55)       # boot_flag
setup[0x200] = 0xeb; setup[0x201] = 0x66           # jump: header ends at 0x268
setup[0x202:0x206] = b'HdrS'
struct.pack_into('<H', setup, 0x206, version)
setup[0x211] = 0x01                                # loadflags: LOADED_HIGH
struct.pack_into('<I', setup, 0x22c, 0x37ffffff)   # initrd_addr_max
struct.pack_into('<I', setup, 0x230, 0x200000)     # kernel_alignment
struct.pack_into('<H', setup, 0x236, 0x01)         # xloadflags: XLF_KERNEL_64
struct.pack_into('<I', setup, 0x238, cmdline_size)
struct.pack_into('<Q', setup, 0x258, 0x100000)     # pref_address
struct.pack_into('<I', setup, 0x260, 0x100000)     # init_size
pm = bytearray(0x200) + open(code, 'rb').read()
open(out, 'wb').write(bytes(setup) + bytes(pm))
EOF
}

setup_file() {
    export GUEST_DIR="$BATS_FILE_TMPDIR/guest"
    mkdir -p "$GUEST_DIR"
    if command -v as >/dev/null && command -v ld >/dev/null && command -v objcopy >/dev/null; then
        write_guest_source "$GUEST_DIR/guest.S"
        as --64 -o "$GUEST_DIR/guest.o" "$GUEST_DIR/guest.S" &&
            ld -m elf_x86_64 -static -nostdlib -n -Ttext=0x100000 -e _start -o "$GUEST_DIR/guest.elf" "$GUEST_DIR/guest.o" &&
            ld -m elf_x86_64 -static -nostdlib -n -Ttext=0x100200 -e _start -o "$GUEST_DIR/guest-bz.elf" "$GUEST_DIR/guest.o" &&
            objcopy -O binary "$GUEST_DIR/guest-bz.elf" "$GUEST_DIR/guest-bz.bin" &&
            make_bzimage "$GUEST_DIR/bzImage" "$GUEST_DIR/guest-bz.bin" 0x020f 2047 &&
            make_bzimage "$GUEST_DIR/bzImage-short" "$GUEST_DIR/guest-bz.bin" 0x020f 16 &&
            make_bzimage "$GUEST_DIR/bzImage-old" "$GUEST_DIR/guest-bz.bin" 0x0200 255
        # The same code as a 32-bit ELF: a valid file the VMM must refuse.
        as --32 -o "$GUEST_DIR/guest32.o" /dev/null && ld -m elf_i386 -static -nostdlib -n -Ttext=0x100000 \
            -e 0x100000 -o "$GUEST_DIR/guest32.elf" "$GUEST_DIR/guest32.o" 2>/dev/null || true
    fi
}

setup() {
    [ -x "$VESSEL_BIN" ] || skip "build/vessel not built (run make)"
    GUEST="$GUEST_DIR/guest.elf"
}

need_kvm() {
    [ -c /dev/kvm ] || skip "no /dev/kvm on this host"
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm not accessible"
}

need_guest() {
    need_kvm
    [ -f "$GUEST" ] || skip "binutils (as, ld, objcopy) not installed: cannot assemble the test guest"
}

# ---- arguments ----

@test "vmm: --kernel is required" {
    run vmm
    assert_failure 1
    assert_output --partial "--kernel is required"
}

@test "vmm: unknown option is refused with usage" {
    run vmm --kernel x --frobnicate
    assert_failure 1
    assert_output --partial "usage: vessel vmm"
}

@test "vmm: --help prints the options and exit statuses" {
    run vmm --help
    assert_success
    assert_output --partial "--memory MiB"
    assert_output --partial "exit status: 0 power-off"
}

@test "vmm: --memory below the minimum is refused" {
    need_guest
    run vmm --kernel "$GUEST" --memory 8
    assert_failure 1
    assert_output --partial "guest memory of 8 MiB is out of range (16.."
}

@test "vmm: --memory above host RAM is refused" {
    need_guest
    run vmm --kernel "$GUEST" --memory 99999999
    assert_failure 1
    assert_output --partial "out of range"
}

@test "vmm: --memory must be a number" {
    run vmm --kernel x --memory 12abc
    assert_failure 1
    assert_output --partial "--memory: \"12abc\" is not a number"
}

@test "vmm: --vcpus 0 and --vcpus 65 are refused" {
    need_guest
    run vmm --kernel "$GUEST" --vcpus 0
    assert_failure 1
    assert_output --partial "0 vCPUs requested"
    run vmm --kernel "$GUEST" --vcpus 65
    assert_failure 1
    assert_output --partial "65 vCPUs requested"
}

@test "vmm: --port needs NAME=PATH and a listening socket" {
    run vmm --kernel x --port novalue
    assert_failure 1
    assert_output --partial "expected NAME=PATH"
    run vmm --kernel x --port ctl="$BATS_TEST_TMPDIR/nothing.sock"
    assert_failure 1
    assert_output --partial "connecting to"
}

@test "vmm: a missing disk image is an error" {
    need_guest
    run vmm --kernel "$GUEST" --disk "$BATS_TEST_TMPDIR/missing.img" --console none
    assert_failure 1
    assert_output --partial "missing.img"
}

# ---- kernel and initrd loading ----

@test "vmm: missing kernel file" {
    need_kvm
    run vmm --kernel "$BATS_TEST_TMPDIR/nope"
    assert_failure 1
    assert_output --partial "opening kernel \"$BATS_TEST_TMPDIR/nope\": No such file or directory"
}

@test "vmm: a text file is not a kernel" {
    need_kvm
    echo "hello, I am not a kernel, but I am long enough to have a header ........" > "$BATS_TEST_TMPDIR/k"
    run vmm --kernel "$BATS_TEST_TMPDIR/k"
    assert_failure 1
    assert_output --partial "neither an ELF vmlinux nor a bzImage"
}

@test "vmm: a 32-bit ELF is refused" {
    need_kvm
    [ -f "$GUEST_DIR/guest32.elf" ] || skip "cannot link a 32-bit ELF here"
    run vmm --kernel "$GUEST_DIR/guest32.elf"
    assert_failure 1
    assert_output --partial "not a 64-bit little-endian x86-64 ELF file"
}

@test "vmm: a truncated ELF is refused" {
    need_guest
    head -c 80 "$GUEST" > "$BATS_TEST_TMPDIR/trunc.elf"
    run vmm --kernel "$BATS_TEST_TMPDIR/trunc.elf"
    assert_failure 1
    assert_output --partial "bad ELF program header table"
}

@test "vmm: an ELF segment below 1 MiB is refused" {
    need_guest
    ld -m elf_x86_64 -static -nostdlib -n -Ttext=0x8000 -e _start -o "$BATS_TEST_TMPDIR/low.elf" "$GUEST_DIR/guest.o"
    run vmm --kernel "$BATS_TEST_TMPDIR/low.elf"
    assert_failure 1
    assert_output --partial "does not fit in guest RAM above 1 MiB"
}

@test "vmm: an ELF whose entry point is outside its segments is refused" {
    need_guest
    ld -m elf_x86_64 -static -nostdlib -n -Ttext=0x100000 -e 0x5000000 -o "$BATS_TEST_TMPDIR/noentry.elf" "$GUEST_DIR/guest.o"
    run vmm --kernel "$BATS_TEST_TMPDIR/noentry.elf"
    assert_failure 1
    assert_output --partial "entry point 0x5000000 is not inside a loaded segment"
}

@test "vmm: a kernel larger than guest RAM is refused" {
    need_guest
    cp "$GUEST" "$BATS_TEST_TMPDIR/big.elf"
    truncate -s 40M "$BATS_TEST_TMPDIR/big.elf"
    run vmm --kernel "$BATS_TEST_TMPDIR/big.elf" --memory 32
    assert_failure 1
    assert_output --partial "is larger than guest RAM"
}

@test "vmm: an initrd larger than guest RAM is refused" {
    need_guest
    truncate -s 40M "$BATS_TEST_TMPDIR/initrd"
    run vmm --kernel "$GUEST" --initrd "$BATS_TEST_TMPDIR/initrd" --memory 32
    assert_failure 1
    assert_output --partial "does not fit in guest RAM"
}

@test "vmm: a command line longer than the ELF boot limit is refused" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline "p$(printf 'x%.0s' $(seq 1 2100))"
    assert_failure 1
    assert_output --partial "command line of 2101 bytes is longer than the kernel accepts (2047)"
}

@test "vmm: the initrd reaches the guest through boot_params" {
    need_guest
    printf '\x5a rest of the initrd' > "$BATS_TEST_TMPDIR/initrd"
    run vmm --kernel "$GUEST" --initrd "$BATS_TEST_TMPDIR/initrd" --cmdline i --console none
    assert_failure 90   # the guest reports the first byte (0x5a)
}

@test "vmm: boots a bzImage through its 64-bit entry" {
    need_guest
    run vmm --kernel "$GUEST_DIR/bzImage" --cmdline p --console none
    assert_success
    run vmm --kernel "$GUEST_DIR/bzImage" --cmdline e --console none
    assert_failure 42
}

@test "vmm: a bzImage's cmdline_size limits the command line" {
    need_guest
    run vmm --kernel "$GUEST_DIR/bzImage-short" --cmdline "p and more than sixteen bytes"
    assert_failure 1
    assert_output --partial "longer than the kernel accepts (16)"
}

@test "vmm: a bzImage with boot protocol before 2.12 is refused" {
    need_guest
    run vmm --kernel "$GUEST_DIR/bzImage-old"
    assert_failure 1
    assert_output --partial "boot protocol 2.00 is too old"
}

# ---- how the guest ends ----

@test "vmm: ACPI power-off exits 0" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline p --console none
    assert_success
    assert_output ""
}

@test "vmm: the guest's code on port 0x501 is the exit status" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline e --console none
    assert_failure 42
}

@test "vmm: HLT with interrupts off ends the VM with status 2" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline h --console none
    assert_failure 2
    assert_output --partial "hlt"
}

@test "vmm: HLT with interrupts off on every vCPU of an SMP guest ends it" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline h --vcpus 3 --console none
    assert_failure 2
}

@test "vmm: i8042 reset exits 3" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline r --console none
    assert_failure 3
    assert_output --partial "i8042"
}

@test "vmm: the ACPI reset register exits 3" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline a --console none
    assert_failure 3
    assert_output --partial "ACPI reset register"
}

@test "vmm: a triple fault ends the VM (4; 6 where PVM emulates the fault)" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline t --console none
    if [ -d /sys/module/kvm_pvm ] && [ "$status" -eq 6 ]; then
        assert_output --partial "internal-error"
    else
        assert_failure 4
        assert_output --partial "triple fault"
    fi
}

@test "vmm: SIGTERM stops an idle guest with 128+15" {
    need_guest
    "$VESSEL_BIN" vmm --kernel "$GUEST" --cmdline l --console none 3>&- &
    local pid=$! rc=0
    sleep 0.3  # not a threshold: a signal at any moment must end it with 143
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    [ "$rc" -eq 143 ]
}

@test "vmm: guest RAM above the 3 GiB hole (a second memory slot at 4 GiB) boots" {
    need_guest
    local host_mib=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 ))
    [ "$host_mib" -gt 4096 ] || skip "host has only $host_mib MiB of RAM"
    run vmm --kernel "$GUEST" --cmdline p --memory 4096 --console none
    assert_success
}

@test "vmm: unmapped MMIO reads as all ones" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline m --console none
    assert_failure 7
}

@test "vmm: CPUID reports the --vcpus count" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline c --console none --vcpus 1
    assert_failure 1
    run vmm --kernel "$GUEST" --cmdline c --console none --vcpus 4
    assert_failure 4
}

@test "vmm: CPUID offers the TSC-deadline timer (KVM emulates it in its LAPIC)" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline d --console none
    assert_failure 21
}

@test "vmm: CPUID passes the host's invariant TSC through" {
    need_guest
    local want=30
    grep -qw nonstop_tsc /proc/cpuinfo && want=31
    run vmm --kernel "$GUEST" --cmdline v --console none
    assert_failure "$want"
}

@test "vmm: CPUID shows the host's vendor and brand string" {
    need_guest
    local vendor model
    vendor=$(awk -F': ' '/^vendor_id/ {print $2; exit}' /proc/cpuinfo)
    model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
    [ -n "$vendor" ] && [ -n "$model" ] || skip "host /proc/cpuinfo has no vendor_id/model name"
    run vmm --kernel "$GUEST" --cmdline b --console none --serial stdout
    assert_success
    assert_equal "${output%%:*}" "$vendor"
    # The guest prints the raw 48-byte string; Linux shows it without leading/trailing blanks.
    local brand
    brand=$(printf '%s' "${output#*:}" | sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//')
    assert_equal "$brand" "$model"
}

@test "vmm: serial output only when asked" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline s --console none
    assert_success
    refute_output --partial "hello from the guest"
    run vmm --kernel "$GUEST" --cmdline s --console none --serial stdout
    assert_success
    assert_output "hello from the guest"
    run vmm --kernel "$GUEST" --cmdline s --console none --serial "$BATS_TEST_TMPDIR/serial.log"
    assert_success
    run cat "$BATS_TEST_TMPDIR/serial.log"
    assert_output "hello from the guest"
}

@test "vmm: --debug reports the exit reason and the VMM's memory overhead" {
    need_guest
    run vmm --kernel "$GUEST" --cmdline s --console none --debug
    assert_success
    assert_output --partial "hello from the guest"
    assert_output --partial "exit reason poweroff"
    assert_output --regexp "VMM overhead [0-9]+ KiB"
}

# ---- ACPI tables ----

@test "vmm: ACPI tables disassemble cleanly and list one LNRO0005 per virtio device" {
    need_kvm
    command -v iasl >/dev/null || skip "iasl (acpica-tools) not installed"
    local dir="$BATS_TEST_TMPDIR/acpi"
    truncate -s 1M "$BATS_TEST_TMPDIR/disk1.img" "$BATS_TEST_TMPDIR/disk2.img"
    run vmm --dump-acpi "$dir" --vcpus 3 --disk "$BATS_TEST_TMPDIR/disk1.img" --disk "$BATS_TEST_TMPDIR/disk2.img,ro" --rng
    assert_success
    run bash -c "cd '$dir' && iasl -d XSDT.dat FACP.dat APIC.dat DSDT.dat 2>&1"
    assert_success
    refute_output --regexp "[Ee]rror|[Ww]arning"
    # console + 2 disks + rng = 4 windows at 0xd0000000 + i*0x1000, GSIs 5..8
    run grep -c '"LNRO0005"' "$dir/DSDT.dsl"
    assert_output 4
    run grep -E "0xD0003000|0x00000008," "$dir/DSDT.dsl"
    assert_success
    run grep -c "Processor Local APIC" "$dir/APIC.dsl"
    assert_output 3
    run grep -E "Hardware Reduced \(V5\) : 1" "$dir/FACP.dsl"
    assert_success
    run grep -A5 "Sleep Control Register" "$dir/FACP.dsl"
    assert_output --partial "0000000000000600"
    run grep -A6 '_S5' "$dir/DSDT.dsl"
    assert_output --partial "0x05"
    # The RSDP (no standard header, so not for iasl): signature, revision 2, checksums.
    run python3 -c "
import sys
d = open('$dir/RSDP.bin', 'rb').read()
assert d[:8] == b'RSD PTR ', d[:8]
assert d[15] == 2
assert sum(d[:20]) % 256 == 0 and sum(d[:36]) % 256 == 0
print('ok')"
    assert_output ok
}
