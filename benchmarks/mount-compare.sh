#!/usr/bin/env bash
# The pcb mount against bindfs (a libfuse passthrough, the FUSE baseline) over the same source, and against reading
# the source directly, on the host, with the rounds of the compared cases interleaved in one run:
#   seq-direct     dd bs=1M iflag=direct of a warm file, 1 reader
#   seq-buffered   dd bs=1M (page cache where the target has one), 1 reader
#   seq-4          4 dd bs=1M iflag=direct of the same file at once (aggregate)
#   rand-4k        python os.pread of 4 KiB at random offsets
#   meta           find, stat of every file and tar to /dev/null over a tree of small files
#
#   benchmarks/mount-compare.sh [--size-mib 1024] [--files 50000] [--rounds 3] [--random 20000] [--with-poll]
#
# --with-poll adds a fourth target, pcb-poll: a second pcb mount of the same share whose agent polls for its answers
# (-Dpcb.agent.blockingWait=false) instead of sleeping on its slot's answer doorbell, to show what the sleep costs.
#
# Needs root, bindfs (scripts/install-deps.sh), python3. The broker's region holds the whole file (warmed with
# pcb warm), so pcb reads are hits; the source is on /dev/shm, so the direct read is the page-cache ceiling.
# Results: benchmarks/results/mount-TIMESTAMP/summary.md (medians of rounds, MB/s or seconds; ratios per round).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PCB="$ROOT/pcb"

SIZE_MIB=1024
FILES=50000
ROUNDS=3
RANDOM_READS=20000
WITH_POLL=0
while (( $# )); do
    case "$1" in
        --size-mib) SIZE_MIB="$2"; shift 2 ;;
        --files) FILES="$2"; shift 2 ;;
        --rounds) ROUNDS="$2"; shift 2 ;;
        --random) RANDOM_READS="$2"; shift 2 ;;
        --with-poll) WITH_POLL=1; shift ;;
        *) echo "usage: $0 [--size-mib N] [--files N] [--rounds N] [--random N] [--with-poll]" >&2; exit 2 ;;
    esac
done
command -v bindfs >/dev/null || "$ROOT/scripts/install-deps.sh"
[[ "$(id -u)" == 0 ]] || { echo "mount-compare: needs root (pcb mount, bindfs -o allow_other)" >&2; exit 1; }

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/benchmarks/results/mount-$STAMP"
WORK="$(mktemp -d /dev/shm/pcb-mount-bench.XXXXXX)"
RUN="$WORK/run"
SRC="$WORK/src"
mkdir -p "$OUT" "$SRC" "$WORK/pcb" "$WORK/pcb-poll" "$WORK/bindfs"
BROKER_PID=""
MOUNT_PID=""
POLL_MOUNT_PID=""
cleanup() {
    set +e
    mountpoint -q "$WORK/pcb" && umount "$WORK/pcb"
    [[ -n "$MOUNT_PID" ]] && wait "$MOUNT_PID" 2>/dev/null
    mountpoint -q "$WORK/pcb-poll" && umount "$WORK/pcb-poll"
    [[ -n "$POLL_MOUNT_PID" ]] && wait "$POLL_MOUNT_PID" 2>/dev/null
    mountpoint -q "$WORK/bindfs" && umount "$WORK/bindfs"
    [[ -n "$BROKER_PID" ]] && kill "$BROKER_PID" && wait "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "mount-compare: ${SIZE_MIB} MiB file, $FILES small files, $ROUNDS rounds -> $OUT" >&2
head -c "$((SIZE_MIB << 20))" /dev/urandom > "$SRC/big"
python3 - "$SRC/tree" "$FILES" <<'EOF'
import os, random, sys
root, files = sys.argv[1], int(sys.argv[2])
rng = random.Random(15)
pool = os.urandom(1 << 16)
for i in range(files):
    d = os.path.join(root, "d%d" % (i // 5000), "s%d" % (i // 100))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    size = rng.randrange(4000)
    start = rng.randrange(len(pool) - size)
    with open(os.path.join(d, "f%d" % i), "wb") as f:
        f.write(pool[start:start + size])
EOF

REGION_MIB=$(( (SIZE_MIB + 512) ))
REGION=1; while (( REGION < REGION_MIB )); do REGION=$(( REGION * 2 )); done
"$PCB" broker --run-dir "$RUN" --share data="$SRC" --guest bench --region-size "${REGION}m" --window-size 2m \
    > "$OUT/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 300); do grep -q '^ready' "$OUT/broker.log" 2>/dev/null && break; sleep 0.1; done
"$PCB" warm --run-dir "$RUN" --guest bench data/big >&2
"$PCB" mount --run-dir "$RUN" --guest bench data "$WORK/pcb" > "$OUT/mount.out" 2> "$OUT/mount.log" &
MOUNT_PID=$!
for _ in $(seq 300); do grep -q '^mounted' "$OUT/mount.out" 2>/dev/null && break; sleep 0.1; done
declare -A DIRS=([direct]="$SRC" [bindfs]="$WORK/bindfs" [pcb]="$WORK/pcb" [pcb-poll]="$WORK/pcb-poll")
TARGETS=(direct bindfs pcb)
if (( WITH_POLL )); then
    PCB_JAVA_OPTS="${PCB_JAVA_OPTS:-} -Dpcb.agent.blockingWait=false" "$PCB" mount --run-dir "$RUN" --guest bench data \
        "$WORK/pcb-poll" > "$OUT/mount-poll.out" 2> "$OUT/mount-poll.log" &
    POLL_MOUNT_PID=$!
    for _ in $(seq 300); do grep -q '^mounted' "$OUT/mount-poll.out" 2>/dev/null && break; sleep 0.1; done
    TARGETS+=(pcb-poll)
fi
bindfs -o ro,allow_other "$SRC" "$WORK/bindfs"
cat "$SRC/big" > /dev/null

RESULTS="$WORK/results.txt"
: > "$RESULTS"
now() { date +%s%N; }
mbps() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.0f", b / (ns / 1e9) / 1e6 }'; }
record() { echo "$1 $2 $3" >> "$RESULTS"; echo "  $1 $2: $3" >&2; }

for round in $(seq "$ROUNDS"); do
    echo "round $round" >&2
    # Every other round in reverse order, so no target always runs first or right after the same one.
    order=("${TARGETS[@]}")
    if (( round % 2 == 0 )); then
        order=()
        for ((i = ${#TARGETS[@]} - 1; i >= 0; i--)); do order+=("${TARGETS[$i]}"); done
    fi
    for target in "${order[@]}"; do
        f="${DIRS[$target]}/big"; bytes=$((SIZE_MIB << 20))
        t0=$(now); dd if="$f" of=/dev/null bs=1M iflag=direct status=none; t1=$(now)
        record seq-direct "$target" "$(mbps "$bytes" $((t1 - t0)))"
        t0=$(now); dd if="$f" of=/dev/null bs=1M status=none; t1=$(now)
        record seq-buffered "$target" "$(mbps "$bytes" $((t1 - t0)))"
        t0=$(now)
        readers=()
        for _ in 1 2 3 4; do dd if="$f" of=/dev/null bs=1M iflag=direct status=none & readers+=($!); done
        wait "${readers[@]}"
        t1=$(now)
        record seq-4 "$target" "$(mbps $((4 * bytes)) $((t1 - t0)))"
        ops=$(python3 - "$f" "$RANDOM_READS" <<'EOF'
import os, random, sys, time
path, n = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDONLY)
size = os.fstat(fd).st_size
rng = random.Random(4)
offsets = [rng.randrange(size // 4096) * 4096 for _ in range(n)]
start = time.perf_counter()
for o in offsets:
    os.pread(fd, 4096, o)
print(round(n / (time.perf_counter() - start)))
EOF
)
        record rand-4k-ops "$target" "$ops"
        t0=$(now)
        (cd "${DIRS[$target]}/tree" && find . > /dev/null && find . -type f -print0 | xargs -0 stat -c %s > /dev/null &&
            tar -cf /dev/null .)
        t1=$(now)
        record meta-seconds "$target" "$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')"
    done
done

{
    echo "# pcb mount vs bindfs vs direct ($STAMP)"
    echo
    echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r);" \
        "${SIZE_MIB} MiB file and $FILES small files on /dev/shm; $ROUNDS rounds interleaved (order reversed every" \
        "other round); per-case medians, and ratios as the median [min-max] of the per-round ratios;" \
        "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    if (( WITH_POLL )); then
        echo "| case | direct | bindfs | pcb | pcb-poll | pcb / bindfs, per round | pcb / direct, per round | pcb / pcb-poll, per round |"
        echo "|---|---|---|---|---|---|---|---|"
    else
        echo "| case | direct | bindfs | pcb | pcb / bindfs, per round | pcb / direct, per round |"
        echo "|---|---|---|---|---|---|"
    fi
    for case in seq-direct seq-buffered seq-4 rand-4k-ops meta-seconds; do
        med() { awk -v c="$case" -v t="$1" '$1 == c && $2 == t { print $3 }' "$RESULTS" | sort -g |
            awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
        # The k-th value of a target is from round k: ratio per round, then median [min-max] of those.
        per_round() { awk -v c="$case" -v a="$1" -v b="$2" '
            $1 == c && $2 == a { x[++na] = $3 } $1 == c && $2 == b { y[++nb] = $3 }
            END { n = 0; for (k = 1; k <= na && k <= nb; k++) if (y[k] > 0) r[++n] = x[k] / y[k]
                  for (i = 2; i <= n; i++) { v = r[i]; for (j = i - 1; j >= 1 && r[j] > v; j--) r[j + 1] = r[j]; r[j + 1] = v }
                  m = (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
                  printf "%.2f [%.2f-%.2f]", m, r[1], r[n] }' "$RESULTS"; }
        unit="MB/s or ops/s"
        [[ "$case" == meta-seconds ]] && unit="s, lower is better"
        if (( WITH_POLL )); then
            echo "| $case ($unit) | $(med direct) | $(med bindfs) | $(med pcb) | $(med pcb-poll) |" \
                "$(per_round pcb bindfs) | $(per_round pcb direct) | $(per_round pcb pcb-poll) |"
        else
            echo "| $case ($unit) | $(med direct) | $(med bindfs) | $(med pcb) | $(per_round pcb bindfs) | $(per_round pcb direct) |"
        fi
    done
    echo
    echo "Raw rounds:"
    echo '```'
    cat "$RESULTS"
    echo '```'
} > "$OUT/summary.md"
cat "$OUT/summary.md"
