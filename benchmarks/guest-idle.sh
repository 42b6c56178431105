#!/usr/bin/env bash
# Issue 18 item 3, the guest half (class GuestIdleCompare): a doorbell guest against a polling guest, in one run.
#   doorbell  `pcb broker --doorbell`: the control region an ivshmem-doorbell device, bound to vfio-pci in the guest
#             (q35 + intel-iommu, intel_iommu=on), the agent ringing the broker and waiting on MSI-X;
#   poll      the same build's broker without --doorbell, ivshmem-plain, the agent polling; same q35 + IOMMU machine.
# Two brokers and two TCG guests (1 vCPU, 512 MiB each) start together; the real agent runs in each guest
# (GuestIdleProbe, no retained windows: every acquire is a round trip) and the host drives it over a second serial
# port. Measured: idle CPU over 10 s, twice, both setups in the same seconds (each broker and each QEMU process on the
# host, the agent's JVM and the whole guest from the guest's own counters); then the first acquire+release after
# 1 s, 10 s and 60 s of idleness (3, 3, 2 samples each), slept and timed with the guest's clock (it also reports how
# much its sleep overshot), the setups asked in turn, who goes first alternating sample by sample.
# Latencies are TCG's (an emulated guest), only comparable between the two setups of one run.
#
#   benchmarks/guest-idle.sh [--samples 3,3,2] [--idle-ms 10000]
#
# Takes about 7-10 minutes here (boot and warm-up 1-3, settling and idle CPU 1.1, samples 5.3). Needs root and QEMU.
# Results: benchmarks/results/guest-idle-TIMESTAMP/ (summary.md, the guests' consoles).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

ARGS=()
while (( $# )); do
    case "$1" in
        --samples|--idle-ms) ARGS+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "guest-idle.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
command -v qemu-system-x86_64 >/dev/null || { echo "needs qemu-system-x86_64 (apt-get install qemu-system-x86)" >&2; exit 1; }

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$HERE/results/guest-idle-$STAMP"
mkdir -p "$OUT"
LOAD_BEFORE="$(uptime)"
START="$(date -u +%H:%M:%S)"
echo "guest-idle: doorbell and poll guests, results in $OUT"
JAR="$HERE/target/pcb-benchmarks-0.1.0-SNAPSHOT.jar"
"$HERE/java.sh" -Dpcb.bench.data="${PCB_BENCH_DATA:-/var/tmp/pcb-guest-idle}" dev.pcb.bench.GuestIdleCompare \
    --guest-cp "$JAR:$HERE/target/lib/*" --cache-dir "$ROOT/cli/target/qemu" --out "$OUT/table.md" "${ARGS[@]}"
LOAD_AFTER="$(uptime)"
{
    echo "# guest-idle $STAMP"
    echo
    echo "Command: benchmarks/guest-idle.sh${ARGS[*]:+ ${ARGS[*]}}, $START-$(date -u +%H:%M:%S) UTC, commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD || echo '+changes')."
    echo "Machine: $(nproc) cores, host kernel $(uname -r), $(qemu-system-x86_64 --version | head -1), guest kernel $(basename "$(ls /boot/vmlinuz-* | sort -V | tail -1)"), TCG."
    echo "Load before: $LOAD_BEFORE"
    echo "Load after:  $LOAD_AFTER"
    echo
    cat "$OUT/table.md"
    echo
    echo "Latencies are TCG's (emulated guest code end to end): compare the two columns, not with host numbers."
} > "$OUT/summary.md"
cat "$OUT/summary.md"
echo "results: $OUT"
