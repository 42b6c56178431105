#!/bin/sh
# pcb: runs the pcb command on the Java runtime bundled beside this script (no JDK needed on the machine), with the
# JVM flags Agrona and Chronicle need (lib/jvm-flags.txt). PCB_JAVA_OPTS adds JVM options, e.g. -Xmx256m.
set -eu
self=$0
# Follow symbolic links (/usr/bin/pcb -> /opt/pcb/bin/pcb) to find the bundle.
while [ -h "$self" ]; do
    link=$(readlink "$self")
    case $link in
        /*) self=$link ;;
        *) self=$(dirname "$self")/$link ;;
    esac
done
PCB_HOME=$(cd "$(dirname "$self")/.." && pwd -P)
# The flags file is one line of words, split on purpose; no globbing of them (or of the class path's "*").
set -f
# shellcheck disable=SC2046,SC2086
exec "$PCB_HOME/runtime/bin/java" $(cat "$PCB_HOME/lib/jvm-flags.txt") ${PCB_JAVA_OPTS:-} \
    -cp "$PCB_HOME/lib/*" dev.pcb.cli.Pcb "$@"
