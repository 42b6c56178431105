#!/usr/bin/env bash
# Runs one benchmark main class with the JVM flags Agrona and Chronicle need, building first when a jar is missing or
# a source is newer. Used by the harness scripts beside it.
#
#   benchmarks/java.sh [-Dprop=value ...] MAIN_CLASS [ARGS...]
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
PROPS=()
while [[ $# -gt 0 && "$1" == -D* ]]; do
    PROPS+=("$1")
    shift
done
exec "$JAVA" "${FLAGS[@]}" "${PROPS[@]}" -cp "$JAR:$HERE/target/lib/*" "$@"
