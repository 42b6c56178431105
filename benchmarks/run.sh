#!/usr/bin/env bash
# Run pcb's benchmark suite: the headline ratios with every compared case interleaved round by round in one JVM
# (views vs raw mapping vs FileChannel.read, remote and retained pairs vs the ring floor), the idle broker and agent,
# first request after idling and acquire latency under load (issue 18), and in full mode also JMH absolute numbers,
# the HdrHistogram acquire-latency harness and the issue 6 harness (fills vs dd, host memory of N readers, scale).
#
#   benchmarks/run.sh [--quick] [--before=DIR | --ratios-only] [--wait-quiet[=SECONDS]]
#
# --quick: 48 interleaved rounds (1-3 minutes, longer on a loaded machine), then the idle comparison with 5, 3 and
# 1 samples of the first request after 1, 10 and 60 s idle (about 2.5 minutes). Without it: JMH (3 forks,
# FileChannel chunk sweep), the latency harness, 100 interleaved rounds, the idle comparison with 10, 5 and 3 samples, and the issue 6 harness at
# full size: about 45 minutes. Builds first when the jars are missing or sources are newer.
# --before=DIR: another worktree of pcb, already built there (mvn -DskipTests package -pl benchmarks -am, never
# install), whose broker and agent run beside this tree's in the idle comparison ("before" and "after" at the same
# time on the same machine).
# --ratios-only: skip the idle comparison (and in full mode the issue 6 harness).
# --wait-quiet: before starting, wait (default up to 600 s) until the machine is nearly idle: on a small shared
# machine another process's build or tests take a whole core and wreck ring latencies.
# Results (console text, ratios.md, idle.md, summary.md; JMH JSON and .hgrm histograms in full mode) go to
# benchmarks/results/MODE-TIMESTAMP/. Broker regions live in a fresh directory on /dev/shm, the share's source file
# on the project's filesystem; both are deleted on exit.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

MODE=full
WAIT_QUIET=0
BEFORE=
RATIOS_ONLY=0
for arg in "$@"; do
    case "$arg" in
        --quick) MODE=quick ;;
        --before=*) BEFORE="${arg#--before=}" ;;
        --ratios-only) RATIOS_ONLY=1 ;;
        --full) MODE=full ;;
        --wait-quiet) WAIT_QUIET=600 ;;
        --wait-quiet=*) WAIT_QUIET="${arg#--wait-quiet=}" ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "run.sh: unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

JAR="$HERE/target/pcb-benchmarks-0.1.0-SNAPSHOT.jar"
FLAGS_FILE="$ROOT/cli/target/classes/dev/pcb/cli/jvm-flags.txt"
if [[ ! -f "$JAR" || ! -f "$FLAGS_FILE" || ! -d "$HERE/target/lib" ||
      -n "$(find "$ROOT" -path "$ROOT/*/src/main/*" -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    echo "run.sh: building (jars missing or sources changed)..." >&2
    (cd "$ROOT" && mvn -q -B -DskipTests package -pl benchmarks -am >&2)
fi

# The flags Agrona and Chronicle need, as the root pom's pcb.jvm.flags property built them into the cli module.
FLAGS=()
read -r -a FLAGS < "$FLAGS_FILE"
FEATURE="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')"
if [[ "${FEATURE%%.*}" -ge 24 ]]; then
    FLAGS+=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
fi

STAMP="$(date +%Y%m%d-%H%M%S)"
# What was measured: the commit, and whether the tree had uncommitted changes.
GIT_DESC="$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
OUT="$HERE/results/$MODE-$STAMP"
SHM="/dev/shm/pcb-bench-$STAMP-$$"
DATA="$HERE/target/bench-data-$STAMP-$$"
CP="$HERE/target/bench-classpath-$STAMP-$$"

cleanup() {
    # Brokers are stopped by the benchmarks themselves (and by their JVMs' shutdown hooks); this catches any left
    # behind by a killed run. Only processes serving this run's own directory are touched.
    local pids
    pids="$(pgrep -f -- "--run-dir $SHM/" || true)"
    if [[ -n "$pids" ]]; then
        echo "run.sh: stopping leftover brokers: $pids" >&2
        kill $pids 2>/dev/null || true
    fi
    rm -rf "$SHM" "$DATA" "$CP"
}
trap cleanup EXIT

mkdir -p "$OUT" "$CP/lib"
# Run from a private copy of the jars: others may rebuild the tree while a run is going, and a jar rewritten under
# a running JVM makes its next class load fail.
cp "$JAR" "$CP/"
cp "$HERE"/target/lib/*.jar "$CP/lib/"
if [[ -n "$BEFORE" ]]; then
    BEFORE_JAR="$BEFORE/benchmarks/target/$(basename "$JAR")"
    if [[ ! -f "$BEFORE_JAR" || ! -d "$BEFORE/benchmarks/target/lib" ]]; then
        echo "run.sh: --before $BEFORE has no built benchmarks jar; build it there first" >&2
        exit 2
    fi
    mkdir -p "$CP/before/lib"
    cp "$BEFORE_JAR" "$CP/before/"
    cp "$BEFORE"/benchmarks/target/lib/*.jar "$CP/before/lib/"
    BEFORE_DESC="$(git -C "$BEFORE" describe --always --dirty 2>/dev/null || echo unknown)"
fi

# Percent of all CPUs busy over the next 2 seconds, from /proc/stat.
busy_percent() {
    local a b
    read -r -a a < <(grep '^cpu ' /proc/stat)
    sleep 2
    read -r -a b < <(grep '^cpu ' /proc/stat)
    local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
    echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
if [[ "$WAIT_QUIET" -gt 0 ]]; then
    deadline=$(( $(date +%s) + WAIT_QUIET ))
    quiet=0
    # Three quiet samples in a row (6 s): a lull between two test classes is not a quiet machine.
    while [[ "$quiet" -lt 3 ]]; do
        busy="$(busy_percent)"
        if [[ "$busy" -le 10 ]]; then
            quiet=$(( quiet + 1 ))
            continue
        fi
        quiet=0
        if [[ "$(date +%s)" -ge "$deadline" ]]; then
            echo "run.sh: machine still ${busy}% busy after ${WAIT_QUIET} s; running anyway" >&2
            break
        fi
        echo "run.sh: machine ${busy}% busy, waiting for it to quiet down..." >&2
        sleep 8
    done
fi


echo "run.sh: $MODE mode, results in $OUT"
set -o pipefail
"$JAVA" "${FLAGS[@]}" \
    "-Dpcb.bench.shm=$SHM" "-Dpcb.bench.data=$DATA" "-Dpcb.bench.git=$GIT_DESC" \
    -cp "$CP/$(basename "$JAR"):$CP/lib/*" \
    dev.pcb.bench.BenchmarkSuite "--$MODE" --out "$OUT" 2>&1 | tee "$OUT/output.txt"

if [[ "$RATIOS_ONLY" -eq 1 ]]; then
    echo "run.sh: done (ratios only), results in $OUT"
    exit 0
fi

# Issue 18: idle broker and agent, first request after idling, acquire latency under load; with --before, that
# build's broker and agent run beside this one's (IdleProbe comes from this tree's jar, last on its class path).
BUILDS=()
if [[ -n "$BEFORE" ]]; then
    BUILDS+=(--build "before $BEFORE_DESC=$CP/before/$(basename "$JAR"):$CP/before/lib/*:$CP/$(basename "$JAR")")
fi
BUILDS+=(--build "this tree $GIT_DESC=$CP/$(basename "$JAR"):$CP/lib/*")
if [[ "$MODE" == quick ]]; then TRIES=5,3,1; else TRIES=10,5,3; fi
echo "run.sh: idle comparison (tries $TRIES)" >&2
"$JAVA" "${FLAGS[@]}" "-Dpcb.bench.shm=$SHM" "-Dpcb.bench.data=$DATA" \
    -cp "$CP/$(basename "$JAR"):$CP/lib/*" dev.pcb.bench.IdleCompare "${BUILDS[@]}" --tries "$TRIES" \
    --out "$OUT/idle.md" 2>&1 | tee -a "$OUT/output.txt"
{ printf '\n## Idle broker and agent, first request after idling, acquire under load (issue 18)\n\n'
  cat "$OUT/idle.md"
} >> "$OUT/summary.md"

# The harness parts of issue 6 that JMH does not measure, full mode only: fill speed and the host copy, host memory
# of N readers, scale in guests and files. Each prints Markdown tables, which are appended to summary.md; the output
# goes to issue6-MODE.txt, its log lines to issue6-MODE.log.
if [[ "$MODE" == full ]]; then
    for run in "idle 64" "fill 1024" "fill 1024 --prefault" "memory 8" "scale 1000000"; do
        name="issue6-${run// /_}"
        echo "run.sh: issue6 $run" >&2
        read -r -a words <<< "$run"
        "$JAVA" "${FLAGS[@]}" "-Dpcb.bench.shm=$SHM" "-Dpcb.bench.data=$DATA" \
            -cp "$CP/$(basename "$JAR"):$CP/lib/*" dev.pcb.bench.Issue6Bench "${words[@]}" > "$OUT/$name.txt" \
            2> "$OUT/$name.log"
        # Tables stay tables; every other line of the harness's output becomes a bullet.
        { printf '\n## Issue 6 harness: `%s`\n\n' "$run"
          awk '/^\|/ { if (!t) print ""; t = 1; print; next } { if (t) print ""; t = 0; print "- " $0 }' \
              "$OUT/$name.txt"
        } >> "$OUT/summary.md"
    done
fi
echo "run.sh: done, results in $OUT"
