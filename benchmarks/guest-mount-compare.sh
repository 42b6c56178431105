#!/usr/bin/env bash
# One TCG guest reading the same host file through three mounts at once, rounds interleaved:
#   pcb       the release bundle's `pcb mount --cache none` (the data region as an ivshmem BAR, FUSE in the guest);
#   9p        virtio-9p, cache=none, msize=512000;
#   virtiofs  virtio-fs, Debian's C virtiofsd with cache=none, the guest's RAM shared (memory-backend-memfd).
# Plus the memory of the pcb mount's JVM in the guest (VmRSS from /proc/PID/status) once mounted and idle, and after
# the reads; and the guest's page cache ("Cached" in its /proc/meminfo) growth for each read, after drop_caches.
#
#   benchmarks/guest-mount-compare.sh [--size 64m] [--rounds 3] [--memory 1024]
#
# The guest runs over the host root (the benchmark harness' QemuGuest, for dd and date), but the mount is the
# bundle's bin/pcb with its own jlink runtime and the guest unit's JVM options (PCB_JAVA_OPTS of pcb-mount@.service).
# Read times under TCG are only comparable with each other, in this one guest. Needs root, QEMU, virtiofsd.
# Results: benchmarks/results/guest-mount-TIMESTAMP/ (summary.md, console); the source file is deleted at exit.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
VIRTIOFSD="${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}"

SIZE=64m
ROUNDS=3
MEMORY=1024
while (( $# )); do
    case "$1" in
        --size) SIZE="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --memory) MEMORY="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "guest-mount-compare.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
command -v qemu-system-x86_64 >/dev/null || { echo "needs qemu-system-x86_64 (apt-get install qemu-system-x86)" >&2; exit 1; }
[[ -x "$VIRTIOFSD" ]] || { echo "needs $VIRTIOFSD (Debian qemu-system-common)" >&2; exit 1; }

JAR="$HERE/target/pcb-benchmarks-0.1.0-SNAPSHOT.jar"
FLAGS_FILE="$ROOT/cli/target/classes/dev/pcb/cli/jvm-flags.txt"
if [[ ! -f "$JAR" || ! -f "$FLAGS_FILE" || ! -d "$HERE/target/lib" || ! -f "$ROOT/cli/target/pcb.jar" ||
      -n "$(find "$ROOT" -path "$ROOT/*/src/main/*" -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    echo "guest-mount-compare.sh: building (jars missing or sources changed)..." >&2
    (cd "$ROOT" && mvn -q -B -DskipTests package -pl benchmarks -am >&2)
fi
BUNDLE="$("$ROOT/pcb" dist | tail -1)"
FLAGS=()
read -r -a FLAGS < "$FLAGS_FILE"
CP="$JAR:$HERE/target/lib/*"
PCB_CP="$ROOT/cli/target/pcb.jar:$ROOT/cli/target/lib/*"
pcb() { "$JAVA" "${FLAGS[@]}" -cp "$PCB_CP" dev.pcb.cli.Pcb "$@"; }

bytes() {  # 64m -> bytes
    local s="${1,,}" unit=1
    case "$s" in *k) unit=1024 ;; *m) unit=$((1 << 20)) ;; *g) unit=$((1 << 30)) ;; esac
    echo $(( ${s%[kmg]} * unit ))
}
SIZE_BYTES="$(bytes "$SIZE")"
REGION=$((1 << 20)); while (( REGION < SIZE_BYTES + (8 << 20) )); do REGION=$((REGION * 2)); done

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="$HERE/results/guest-mount-$STAMP"     # visible inside the guest (not under /tmp): the unpacked bundle
SRC="$WORK/src"
RUN_DIR="/dev/shm/pcb-guest-mount-$$"
mkdir -p "$SRC" "$WORK/bundle"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$RUN_DIR" "$SRC" "$WORK/bundle" "$WORK"/*.sock
}
trap cleanup EXIT

echo "guest-mount-compare: one guest of $MEMORY MiB, file $SIZE, $ROUNDS interleaved rounds of pcb, 9p, virtiofs; work dir $WORK"
head -c "$SIZE_BYTES" /dev/urandom > "$SRC/file.bin"
HOST_SHA="$(sha256sum "$SRC/file.bin" | cut -d' ' -f1)"
tar -xzf "$BUNDLE" -C "$WORK/bundle"
PCB_HOME="$(echo "$WORK"/bundle/pcb-*)"

pcb broker --run-dir "$RUN_DIR" --share "bench=$SRC" --guest vm1 --region-size "$REGION" --window-size 1m \
    > "$WORK/broker.log" 2>&1 &
PIDS+=("$!")
deadline=$((SECONDS + 60))
until grep -q '^ready' "$WORK/broker.log" 2>/dev/null; do
    (( SECONDS < deadline )) || { cat "$WORK/broker.log" >&2; exit 1; }
    sleep 0.5
done
"$VIRTIOFSD" --socket-path="$WORK/vfs.sock" -o source="$SRC" -o cache=none > "$WORK/virtiofsd.log" 2>&1 &
PIDS+=("$!")
deadline=$((SECONDS + 20))
until [[ -S "$WORK/vfs.sock" ]]; do (( SECONDS < deadline )) || { cat "$WORK/virtiofsd.log" >&2; exit 1; }; sleep 0.2; done

EXTRA=()
eval "EXTRA=($(pcb qemu-args --run-dir "$RUN_DIR" --guest vm1))"
EXTRA+=(-virtfs "local,path=$SRC,mount_tag=bench9p,security_model=none,readonly=on"
        -object "memory-backend-memfd,id=mem,size=${MEMORY}M,share=on" -numa node,memdev=mem
        -chardev "socket,id=vfs,path=$WORK/vfs.sock" -device vhost-user-fs-pci,chardev=vfs,tag=benchfs)

# The guest script (the host root's /bin/sh). PCB_JAVA_OPTS as in dist/pcb-mount@.service.
cat > "$WORK/guest.sh" <<EOF
cd /tmp
kib() { awk -v k="\$1:" '\$1 == k { print \$2 }' "\${2:-/proc/meminfo}"; }
modprobe virtiofs || exit 10
mkdir -p /tmp/9p /tmp/virtiofs /tmp/pcb
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=none,msize=512000 bench9p /tmp/9p || exit 11
mount -t virtiofs -o ro benchfs /tmp/virtiofs || exit 12
export PCB_JAVA_OPTS='-Xmx128m -XX:+UseSerialGC'
t0=\$(date +%s%N)
'$PCB_HOME/bin/pcb' mount --cache none bench /tmp/pcb > /tmp/mount.out 2> /tmp/mount.err &
pid=\$!
i=0; until grep -q '^mounted' /tmp/mount.out; do
  kill -0 \$pid 2>/dev/null && [ \$i -lt 1500 ] || { cat /tmp/mount.err; exit 13; }; i=\$((i + 1)); sleep 0.2; done
echo "PCB-GM mounted_ms \$(( (\$(date +%s%N) - t0) / 1000000 ))"
sleep 10
echo "PCB-GM rss idle \$(kib VmRSS /proc/\$pid/status) hwm \$(kib VmHWM /proc/\$pid/status)"
for r in \$(seq $ROUNDS); do for m in pcb 9p virtiofs; do
  sync; echo 3 > /proc/sys/vm/drop_caches; c0=\$(kib Cached); t0=\$(date +%s%N)
  dd if=/tmp/\$m/file.bin of=/dev/null bs=1M 2>/dev/null || echo "PCB-GM error \$m"
  t1=\$(date +%s%N); c1=\$(kib Cached)
  echo "PCB-GM read \$r \$m \$(( (t1 - t0) / 1000000 )) \$((c1 - c0))"
done; done
echo "PCB-GM rss after \$(kib VmRSS /proc/\$pid/status) hwm \$(kib VmHWM /proc/\$pid/status)"
for m in pcb 9p virtiofs; do echo "PCB-GM sha \$m \$(sha256sum /tmp/\$m/file.bin | cut -d' ' -f1)"; done
kill -TERM \$pid; wait \$pid; st=\$?
[ \$st -eq 143 ] && st=0   # SIGTERM, as the unit stops it (SuccessExitStatus=143)
echo "PCB-GM umount \$st"; exit \$st
EOF

"$JAVA" "${FLAGS[@]}" -cp "$CP" dev.pcb.bench.GuestRun vm1 "$MEMORY" "$ROOT/cli/target/qemu" "$WORK/guest.sh" 900 \
    "${EXTRA[@]}" | tee "$WORK/console.log" | grep --line-buffered '^PCB-GM\|INIT-FAILED\|GUEST-EXIT' || true

C="$WORK/console.log"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
    echo "| mode | read ms per round | median ms | median MiB/s | guest Cached growth per read (KiB) | bytes |"
    echo "|---|---|---|---|---|---|"
    for m in pcb 9p virtiofs; do
        ms="$(awk -v m="$m" '$1 == "PCB-GM" && $2 == "read" && $4 == m { print $5 }' "$C")"
        cached="$(awk -v m="$m" '$1 == "PCB-GM" && $2 == "read" && $4 == m { print $6 }' "$C" | tr '\n' ' ')"
        med="$(echo "$ms" | median)"
        sum="$(awk -v m="$m" '$1 == "PCB-GM" && $2 == "sha" && $3 == m { print $4 }' "$C")"
        echo "| $m | $(echo "$ms" | tr '\n' ' ') | $med | $(awk -v b="$SIZE_BYTES" -v t="$med" 'BEGIN { printf "%.1f", b / 1048576 / (t / 1000) }') | $cached | $([[ "$sum" == "$HOST_SHA" ]] && echo equal || echo MISMATCH) |"
    done
    echo
    echo "pcb mount JVM in the guest (KiB): $(grep '^PCB-GM mounted_ms' "$C" | sed 's/PCB-GM //'); $(grep '^PCB-GM rss idle' "$C" | sed 's/PCB-GM //'); $(grep '^PCB-GM rss after' "$C" | sed 's/PCB-GM //')"
    echo
    echo "File: $SIZE, one guest of $MEMORY MiB, 1 vCPU, TCG; pcb region $((REGION >> 20)) MiB, 1 MiB windows; dd bs=1M after drop_caches."
    echo "Machine: $(nproc) cores, host kernel $(uname -r), $(qemu-system-x86_64 --version | head -1), guest kernel $(basename "$(ls /boot/vmlinuz-* | sort -V | tail -1)"), bundle $(basename "$BUNDLE")."
} > "$WORK/summary.md"
echo
cat "$WORK/summary.md"
echo "results: $WORK"
