#!/usr/bin/env bash
# Runs every pcb test: unit, end-to-end (broker and agents in their own JVMs), QEMU guests, torture and fuzz,
# on JDK 17 and again on JDK 25 when it is installed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

JDK25="${PCB_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"

# QEMU, a guest kernel and busybox for the VM tests (Debian packages; nothing happens when present).
./scripts/install-deps.sh

# Into a log (CI) no colours and no stray resets: Debian's Maven 3.8 writes ESC[0m even with -B unless
# jansi.noreset is set on its JVM, as the launcher does.
COLOR=()
if [[ ! -t 1 ]]; then
    COLOR=(-Dstyle.color=never)
    export MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true"
fi

echo "== JDK $(java -version 2>&1 | head -1)"
mvn -B -ntp "${COLOR[@]}" clean verify "$@"

if [[ -x "$JDK25/bin/java" ]]; then
    echo "== JDK 25: $JDK25"
    JAVA_HOME="$JDK25" mvn -B -ntp "${COLOR[@]}" clean verify "$@"
else
    echo "== JDK 25 not found at $JDK25: skipped the second pass" >&2
fi
