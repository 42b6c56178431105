#!/usr/bin/env bash
# Memory cost of several TCG guests reading the same host file at the same time, through
#   pcb       the data region as an ivshmem-plain BAR (readonly=on), read zero-copy by the Java agent in the guest;
#   9p        virtio-9p, mounted cache=loose, read with sha256sum;
#   virtiofs  virtio-fs, Debian's C virtiofsd (no DAX), one per guest, cache=auto, read with sha256sum.
#
#   benchmarks/memory-compare.sh [--size 128m] [--guests 2] [--memory 1024] [--modes pcb,9p,virtiofs]
#
# Per guest it reports the growth of the guest's page cache ("Cached" in the guest's /proc/meminfo, printed on its
# console right before and right after the read) and of its QEMU process (RssAnon and RssShmem from
# /proc/PID/status, Pss from /proc/PID/smaps_rollup), and per run the growth of the host's Shmem (/proc/meminfo), the
# host page cache holding the source file (fincore) and, for pcb, the resident part of the data region (fincore).
# The guests read at the same time: each prints "ready" after its mount (or agent attach), the host samples, creates a
# "go" file all guests wait for, samples again when all printed "done", then releases them.
# Guest throughput under TCG is meaningless; this measures memory only. Needs root, QEMU, a kernel, busybox-static.
# Results: benchmarks/results/memory-TIMESTAMP/ (summary.md, consoles); the source file is deleted at exit.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
VIRTIOFSD="${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}"

SIZE=128m
GUESTS=2
MEMORY=1024
MODES=pcb,9p,virtiofs
while (( $# )); do
    case "$1" in
        --size) SIZE="$2"; shift 2 ;;
        --guests) GUESTS="$2"; shift 2 ;;
        --memory) MEMORY="$2"; shift 2 ;;
        --modes) MODES="$2"; shift 2 ;;
        -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "memory-compare.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
command -v qemu-system-x86_64 >/dev/null || { echo "needs qemu-system-x86_64 (apt-get install qemu-system-x86)" >&2; exit 1; }
command -v fincore >/dev/null || { echo "needs fincore (util-linux)" >&2; exit 1; }

JAR="$HERE/target/pcb-benchmarks-0.1.0-SNAPSHOT.jar"
FLAGS_FILE="$ROOT/cli/target/classes/dev/pcb/cli/jvm-flags.txt"
if [[ ! -f "$JAR" || ! -f "$FLAGS_FILE" || ! -d "$HERE/target/lib" || ! -f "$ROOT/cli/target/pcb.jar" ||
      -n "$(find "$ROOT" -path "$ROOT/*/src/main/*" -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    echo "memory-compare.sh: building (jars missing or sources changed)..." >&2
    (cd "$ROOT" && mvn -q -B -DskipTests package -pl benchmarks -am >&2)
fi
FLAGS=()
read -r -a FLAGS < "$FLAGS_FILE"
FEATURE="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')"
if [[ "${FEATURE%%.*}" -ge 24 ]]; then
    FLAGS+=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
fi
JAVA_BIN="$(readlink -f "$(command -v "$JAVA")")"
CP="$JAR:$HERE/target/lib/*"
PCB_CP="$ROOT/cli/target/pcb.jar:$ROOT/cli/target/lib/*"

bytes() {  # 128m -> bytes
    local s="${1,,}" unit=1
    case "$s" in *k) unit=1024 ;; *m) unit=$((1 << 20)) ;; *g) unit=$((1 << 30)) ;; esac
    echo $(( ${s%[kmg]} * unit ))
}
SIZE_BYTES="$(bytes "$SIZE")"
REGION=$((1 << 20)); while (( REGION < SIZE_BYTES + (8 << 20) )); do REGION=$((REGION * 2)); done

STAMP="$(date +%Y%m%d-%H%M%S)"
WORK="$HERE/results/memory-$STAMP"     # visible inside the guests (not under /tmp): go and release files live here
SRC="$WORK/src"
FILE="$SRC/file.bin"
CACHE="$ROOT/cli/target/qemu"
RUN_DIR="/dev/shm/pcb-memcmp-$$"
mkdir -p "$SRC"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$RUN_DIR" "$SRC" "$WORK"/*.sock "$WORK"/go-* "$WORK"/release-*
}
trap cleanup EXIT

echo "memory-compare: $GUESTS guests x ${MEMORY} MiB, file $SIZE, modes $MODES; work dir $WORK"
head -c "$SIZE_BYTES" /dev/urandom > "$FILE"
HOST_SHA="$(sha256sum "$FILE" | cut -d' ' -f1)"

kb() { awk -v k="$2:" '$1 == k {print $2; exit}' "$1" 2>/dev/null || echo 0; }
fincore_kb() { local b; b="$(fincore --bytes --noheadings --output RES "$1" 2>/dev/null || echo 0)"; echo $(( ${b:-0} / 1024 )); }
drop_source_cache() { sync "$FILE"; dd if="$FILE" iflag=nocache count=0 status=none; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
marker_count() { local n=0 f; for f in "$@"; do grep -q "$MARK" "$f" 2>/dev/null && n=$((n + 1)); done; echo "$n"; }
wait_markers() {  # MARK TIMEOUT_S CONSOLES...
    MARK="$1"; local timeout="$2"; shift 2
    local deadline=$((SECONDS + timeout))
    while (( $(marker_count "$@") < $# )); do
        if (( SECONDS > deadline )); then echo "timeout waiting for '$MARK'" >&2; tail -n 30 "$@" >&2; return 1; fi
        for f in "$@"; do
            if grep -q "^PCB-GUEST-EXIT\|^PCB-GUEST-INIT-FAILED" "$f" 2>/dev/null && ! grep -q "$MARK" "$f"; then
                echo "a guest ended before '$MARK':" >&2; tail -n 40 "$f" >&2; return 1
            fi
        done
        sleep 0.5
    done
}

guest_script() {  # MODE GO RELEASE
    local mode="$1" go="$2" release="$3"
    echo 'cd /tmp'
    case "$mode" in
        pcb)
            printf '%q ' "$JAVA_BIN" "${FLAGS[@]}" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$CP" \
                dev.pcb.bench.GuestMemoryReader bench/file.bin "$go" "$release"
            echo
            return ;;
        9p) echo 'mkdir -p /tmp/b && mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 bench /tmp/b || exit 10' ;;
        virtiofs) echo 'modprobe virtiofs || exit 10'
                  echo 'mkdir -p /tmp/b && mount -t virtiofs -o ro bench /tmp/b || exit 11' ;;
    esac
    cat <<EOF
cached() { awk '/^Cached:/ {print \$2}' /proc/meminfo; }
sha256sum /dev/null >/dev/null; size=\$(stat -c %s /tmp/b/file.bin)
echo "PCB-MEM ready cached_kb=\$(cached) size=\$size"
while [ ! -e '$go' ]; do sleep 0.2; done
t0=\$(date +%s%N); sum=\$(sha256sum /tmp/b/file.bin | cut -d' ' -f1); t1=\$(date +%s%N)
echo "PCB-MEM done cached_kb=\$(cached) read_ms=\$(( (t1 - t0) / 1000000 )) sha256=\$sum"
while [ ! -e '$release' ]; do sleep 0.2; done
EOF
}

SUMMARY="$WORK/summary.md"
{
    echo "| mode | guest | guest Cached before -> after (MiB) | guest page cache growth (MiB) | QEMU RssAnon growth (MiB) | QEMU RssShmem growth (MiB) | QEMU Pss growth (MiB) | checksum |"
    echo "|---|---|---|---|---|---|---|---|"
} > "$SUMMARY"
HOST_ROWS=()

run_mode() {
    local mode="$1" broker_pid="" region_kb=0
    local -a consoles=() runners=() qpids=() extra=()
    local go="$WORK/go-$mode" release="$WORK/release-$mode"
    drop_source_cache
    echo
    echo "== $mode: source file in host page cache after drop: $(mib "$(fincore_kb "$FILE")") MiB"

    case "$mode" in
        pcb)
            "$JAVA" "${FLAGS[@]}" -cp "$PCB_CP" dev.pcb.cli.Pcb broker --run-dir "$RUN_DIR" --share "bench=$SRC" \
                $(for i in $(seq 1 "$GUESTS"); do echo --guest "vm$i"; done) --region-size "$REGION" \
                > "$WORK/$mode-broker.log" 2>&1 &
            broker_pid=$!; PIDS+=("$broker_pid")
            local deadline=$((SECONDS + 60))
            until grep -q '^ready' "$WORK/$mode-broker.log" 2>/dev/null; do
                (( SECONDS < deadline )) && kill -0 "$broker_pid" 2>/dev/null || { cat "$WORK/$mode-broker.log" >&2; return 1; }
                sleep 0.5
            done ;;
    esac

    local shmem0 shmem1 src1
    for i in $(seq 1 "$GUESTS"); do
        local name="vm$i" script="$WORK/$mode-vm$i.sh"
        guest_script "$mode" "$go" "$release" > "$script"
        extra=()
        case "$mode" in
            pcb)
                # The broker's own arguments for this guest, as pcb qemu-args prints them.
                eval "extra=($("$JAVA" "${FLAGS[@]}" -cp "$PCB_CP" dev.pcb.cli.Pcb qemu-args --run-dir "$RUN_DIR" --guest "$name"))" ;;
            9p)
                extra=(-virtfs "local,path=$SRC,mount_tag=bench,security_model=none,readonly=on") ;;
            virtiofs)
                local sock="$WORK/$mode-$name.sock"
                "$VIRTIOFSD" --socket-path="$sock" -o source="$SRC" -o cache=auto > "$WORK/$mode-$name-virtiofsd.log" 2>&1 &
                PIDS+=("$!")
                local deadline=$((SECONDS + 20))
                until [[ -S "$sock" ]]; do (( SECONDS < deadline )) || { cat "$WORK/$mode-$name-virtiofsd.log" >&2; return 1; }; sleep 0.2; done
                extra=(-object "memory-backend-memfd,id=mem,size=${MEMORY}M,share=on" -numa node,memdev=mem
                       -chardev "socket,id=vfs,path=$sock" -device vhost-user-fs-pci,chardev=vfs,tag=bench) ;;
        esac
        consoles+=("$WORK/$mode-$name.console")
        "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.pcb.bench.GuestRun "$name" "$MEMORY" "$CACHE" "$script" 400 "${extra[@]}" \
            > "$WORK/$mode-$name.console" 2>&1 &
        runners+=("$!"); PIDS+=("$!")
    done

    wait_markers "^PCB-MEM ready" 240 "${consoles[@]}"
    for c in "${consoles[@]}"; do qpids+=("$(sed -n 's/^PCB-RUN qemu-pid=//p' "$c" | head -1)"); done
    declare -A before
    for i in "${!qpids[@]}"; do
        local p="${qpids[$i]}"
        before[$i,anon]=$(kb "/proc/$p/status" RssAnon); before[$i,shm]=$(kb "/proc/$p/status" RssShmem)
        before[$i,pss]=$(kb "/proc/$p/smaps_rollup" Pss)
    done
    shmem0=$(kb /proc/meminfo Shmem)
    echo "   all $GUESTS guests ready; go"
    touch "$go"
    wait_markers "^PCB-MEM done" 300 "${consoles[@]}"
    shmem1=$(kb /proc/meminfo Shmem)
    src1=$(fincore_kb "$FILE")
    [[ "$mode" == pcb ]] && region_kb=$(fincore_kb "$RUN_DIR/share-bench.data")
    local anon_sum=0
    for i in "${!qpids[@]}"; do
        local p="${qpids[$i]}" c="${consoles[$i]}"
        local anon shm pss ready after
        anon=$(( $(kb "/proc/$p/status" RssAnon) - ${before[$i,anon]} ))
        shm=$(( $(kb "/proc/$p/status" RssShmem) - ${before[$i,shm]} ))
        pss=$(( $(kb "/proc/$p/smaps_rollup" Pss) - ${before[$i,pss]} ))
        ready=$(sed -n 's/^PCB-MEM ready cached_kb=\([0-9]*\).*/\1/p' "$c")
        after=$(sed -n 's/^PCB-MEM done cached_kb=\([0-9]*\).*/\1/p' "$c")
        local sum; sum=$(sed -n 's/^PCB-MEM done .*sha256=\([0-9a-f]*\).*/\1/p' "$c")
        local ok=MISMATCH; [[ "$sum" == "$HOST_SHA" ]] && ok=ok
        anon_sum=$((anon_sum + anon))
        echo "| $mode | vm$((i + 1)) | $(mib "$ready") -> $(mib "$after") | $(mib $((after - ready))) | $(mib "$anon") | $(mib "$shm") | $(mib "$pss") | $ok |" >> "$SUMMARY"
        echo "   vm$((i + 1)): guest Cached +$(mib $((after - ready))) MiB, QEMU RssAnon +$(mib "$anon") MiB, RssShmem +$(mib "$shm") MiB, Pss +$(mib "$pss") MiB, checksum $ok"
    done
    local host_total=$(( anon_sum + shmem1 - shmem0 + src1 ))
    HOST_ROWS+=("| $mode | $(mib $((shmem1 - shmem0))) | $(mib "$src1") | $([[ "$mode" == pcb ]] && mib "$region_kb" || echo -) | $(mib "$anon_sum") | $(mib "$host_total") |")
    echo "   host: Shmem +$(mib $((shmem1 - shmem0))) MiB, source in page cache $(mib "$src1") MiB, QEMU RssAnon +$(mib "$anon_sum") MiB in all => about $(mib "$host_total") MiB for the file"

    touch "$release"
    for r in "${runners[@]}"; do wait "$r" || echo "   (a guest runner exited with $?)"; done
    if [[ -n "$broker_pid" ]]; then kill "$broker_pid"; wait "$broker_pid" || true; rm -rf "$RUN_DIR"; fi
    for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done   # virtiofsd
    wait 2>/dev/null || true
}

IFS=, read -r -a MODE_LIST <<< "$MODES"
for mode in "${MODE_LIST[@]}"; do
    run_mode "$mode"
done

{
    echo
    echo "| mode | host Shmem growth (MiB) | source file in host page cache (MiB) | pcb data region resident (MiB) | QEMU RssAnon growth, all guests (MiB) | host total for the file (MiB) |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${HOST_ROWS[@]}"
    echo
    echo "File: $SIZE ($SIZE_BYTES bytes), $GUESTS guests of $MEMORY MiB reading at the same time, TCG. pcb region $((REGION >> 20)) MiB, 2 MiB windows."
    echo "Host total = host Shmem growth + QEMU anonymous growth of all guests + source file in the host page cache."
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), host kernel $(uname -r), $(qemu-system-x86_64 --version | head -1), guest kernel $(basename "$(ls /boot/vmlinuz-* | sort -V | tail -1)"), $("$JAVA" -version 2>&1 | head -1)."
} >> "$SUMMARY"
echo
cat "$SUMMARY"
echo
echo "results: $WORK"
