#!/usr/bin/env bash
# Start-up of the release bundle's `pcb`: its runtime with the JDK classes from the class-data sharing archive jlink
# made (what ships) against the same runtime told not to share (-Xshare:off, as the bundle was before), in one run.
# Each round runs `pcb agent sha256` of a 3 MB file against a broker of the same bundle, once each way, who goes first
# alternating round by round; the whole process is timed, from exec to exit, on this host.
#
#   benchmarks/bundle-startup.sh [--rounds 20] [--bundle DIR]
#
# DIR: an unpacked bundle (default: cli/target/dist/work/pcb-VERSION, built by `mvn -pl cli -am package`).
# Takes about a minute. Results: benchmarks/results/bundle-startup-TIMESTAMP/summary.md and times.txt.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

ROUNDS=20
BUNDLE=""
while (( $# )); do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --bundle) BUNDLE="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bundle-startup.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
    esac
done
if [[ -z "$BUNDLE" ]]; then
    BUNDLE="$(find "$ROOT/cli/target/dist/work" -maxdepth 1 -name 'pcb-*' -type d 2>/dev/null | head -1)"
fi
[[ -x "$BUNDLE/bin/pcb" ]] || { echo "no bundle at '$BUNDLE': mvn -B -ntp -pl cli -am package -DskipTests" >&2; exit 1; }

OUT="$ROOT/benchmarks/results/bundle-startup-$(date -u +%Y%m%dT%H%M%SZ)"
WORK="$(mktemp -d /tmp/pcb-bundle-startup-XXXXXX)"
mkdir -p "$OUT" "$WORK/share"
BROKER=""
cleanup()
{
    [[ -n "$BROKER" ]] && kill "$BROKER" 2>/dev/null && wait "$BROKER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
head -c 3000000 /dev/urandom > "$WORK/share/f.bin"
"$BUNDLE/bin/pcb" broker --run-dir "$WORK/run" --share s="$WORK/share" --guest vm1 > "$WORK/broker.log" 2>&1 &
BROKER=$!
for _ in $(seq 1 100); do grep -q '^ready' "$WORK/broker.log" && break; sleep 0.1; done
grep -q '^ready' "$WORK/broker.log" || { cat "$WORK/broker.log" >&2; exit 1; }

run()
{
    local opts="$1" start end
    start=$(date +%s%N)
    PCB_JAVA_OPTS="$opts" "$BUNDLE/bin/pcb" agent --run-dir "$WORK/run" --guest vm1 sha256 s/f.bin > /dev/null
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}

: > "$OUT/times.txt"
for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then order="shared off"; else order="off shared"; fi
    for mode in $order; do
        if [[ "$mode" == off ]]; then ms=$(run -Xshare:off); else ms=$(run ""); fi
        echo "$round $mode $ms" >> "$OUT/times.txt"
    done
done

median()
{
    awk -v m="$1" '$2 == m {print $3}' "$OUT/times.txt" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
SHARED=$(median shared)
OFF=$(median off)
{
    echo "# Bundle start-up, $(date -u +%Y-%m-%dT%H:%MZ), $ROUNDS interleaved rounds"
    echo
    echo "bundle: $BUNDLE ($("$BUNDLE/runtime/bin/java" -version 2>&1 | head -1))"
    echo "host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| runtime | median ms, \`pcb agent sha256\` of 3 MB, exec to exit |"
    echo "|---|---|"
    echo "| JDK classes shared (what ships) | $SHARED |"
    echo "| -Xshare:off | $OFF |"
    echo
    echo "shared / off: $(awk -v a="$SHARED" -v b="$OFF" 'BEGIN {printf "%.2f", a / b}')"
} > "$OUT/summary.md"
cat "$OUT/summary.md"
