#!/usr/bin/env bash
# Issue 6: fills, memory, scale, idle (class Issue6Bench), each against a baseline in the same run.
# Data goes to $PCB_BENCH_DATA (default /var/tmp/pcb-issue6); delete it afterwards.
#
#   benchmarks/issue6.sh idle | fill [MiB] | memory [N] | scale [FILES]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JAR="$HERE/target/pcb-benchmarks-0.1.0-SNAPSHOT.jar"
if [[ ! -f "$JAR" || -n "$(find "$ROOT" -path "$ROOT/*/src/main/*" -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    (cd "$ROOT" && mvn -q -B -DskipTests package -pl benchmarks -am >&2)
fi
FLAGS=()
read -r -a FLAGS < "$ROOT/cli/target/classes/dev/pcb/cli/jvm-flags.txt"
FEATURE="$("$JAVA" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')"
if [[ "${FEATURE%%.*}" -ge 24 ]]; then
    FLAGS+=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
fi
exec "$JAVA" "${FLAGS[@]}" -cp "$JAR:$HERE/target/lib/*" -Dpcb.bench.data="${PCB_BENCH_DATA:-/var/tmp/pcb-issue6}" dev.pcb.bench.Issue6Bench "$@"
