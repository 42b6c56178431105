#!/usr/bin/env bash
# Issue 9's benchmark: a /usr-like tree read whole through the agent, against a host `cat` of every file in the
# same run, and the region memory used per byte of file data.
#
#   benchmarks/small-files.sh [FILES] [RUNS]     (defaults: 20000 files, 3 runs; about a minute)
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
exec "$JAVA" "${FLAGS[@]}" -cp "$JAR:$HERE/target/lib/*" dev.pcb.bench.SmallFilesBench "$@"
