#!/bin/bash
# Benchmark part (1) of the builtin VMM: wall time from exec to guest power-off, peak
# RSS and CPU time (user+sys) of `vessel vmm` booting the test guest with the command
# line "exit" (it powers off at once), against QEMU's microvm machine with KVM booting
# the same file; runs interleaved, medians and ratios. Also the VMM's own memory
# overhead (from --debug). Part (2), the stock kernel in the nested test bed, is
# bench/vmm-nested.sh.
#   usage: bench/vmm.sh [RUNS]    (default 20; env VESSEL_BIN, QEMU, MEMORY_MIB)
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-20}
VESSEL_BIN=${VESSEL_BIN:-build/vessel}
QEMU=${QEMU:-qemu-system-x86_64}
GUEST=build/test-guest.elf
MEM=${MEMORY_MIB:-256}

[ -c /dev/kvm ] || { echo "bench/vmm.sh: no /dev/kvm, nothing to measure" >&2; exit 0; }
[ -x "$VESSEL_BIN" ] || { echo "bench/vmm.sh: $VESSEL_BIN not built (make)" >&2; exit 1; }
[ -f "$GUEST" ] || { echo "bench/vmm.sh: $GUEST not built (make test-guest)" >&2; exit 1; }
have_qemu=1
command -v "$QEMU" >/dev/null || have_qemu=0

# A tiny C spawner: ru_maxrss counts the pre-exec image too, so spawning from Python
# would report Python's RSS; from this program the floor is a few hundred KiB.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/spawn.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    (void)argc;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = vfork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0), dup2(null, 1), dup2(null, 2);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    printf("%.3f %ld %.3f %d\n", (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6, ru.ru_maxrss, cpu,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
C
cc -O2 -o "$tmp/spawn" "$tmp/spawn.c"

python3 - "$RUNS" "$have_qemu" "$MEM" "$VESSEL_BIN" "$QEMU" "$GUEST" "$tmp/spawn" <<'PY'
import re, statistics, subprocess, sys, time

runs, have_qemu, mem = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
vessel, qemu, guest, spawn = sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
cmds = {"vessel vmm": [vessel, "vmm", "--kernel", guest, "--cmdline", "exit", "--console", "none",
                       "--memory", mem]}
if have_qemu:
    cmds["qemu microvm"] = [qemu, "-M", "microvm", "-accel", "kvm", "-nodefaults", "-no-user-config",
                            "-nographic", "-m", mem, "-kernel", guest, "-append", "exit"]

def measure(argv):
    """Wall time (ms), peak RSS (KiB), user+sys CPU (ms) of one run, from spawn to reap."""
    out = subprocess.run([spawn] + argv, capture_output=True, text=True, check=True).stdout.split()
    wall, rss, cpu, status = float(out[0]), int(out[1]), float(out[2]), int(out[3])
    if status != 0:
        sys.exit(f"bench/vmm.sh: {' '.join(argv)} exited with {status}")
    return wall, rss, cpu

results = {name: [] for name in cmds}
for name, argv in cmds.items():   # warm-up (page cache, KVM module state)
    measure(argv)
for _ in range(runs):
    for name, argv in cmds.items():
        results[name].append(measure(argv))

med = {name: tuple(statistics.median(r[i] for r in rs) for i in range(3)) for name, rs in results.items()}
print(f"# {runs} interleaved runs each, guest RAM {mem} MiB, test guest powering off at once")
print(f"{'':14} {'wall ms':>9} {'peak RSS KiB':>13} {'CPU ms (u+s)':>13}")
for name, (w, rss, cpu) in med.items():
    print(f"{name:14} {w:9.1f} {rss:13.0f} {cpu:13.1f}")
if have_qemu:
    v, q = med["vessel vmm"], med["qemu microvm"]
    print(f"{'qemu/vessel':14} {q[0]/v[0]:8.1f}x {q[1]/v[1]:12.1f}x {q[2]/max(v[2], 0.001):12.1f}x")

out = subprocess.run(cmds["vessel vmm"] + ["--debug", "--serial", "none"], capture_output=True, text=True).stderr
m = re.search(r"VMM overhead (-?\d+) KiB", out)
if m:
    print(f"vessel VMM memory overhead (RSS minus guest memory touched): {m.group(1)} KiB")
PY
