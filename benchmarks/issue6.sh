#!/usr/bin/env bash
# Issue 6: fills, memory, scale, idle (class Issue6Bench), and issue 18's agent wait (agentwait), each against a baseline in the same run.
# Data goes to $PCB_BENCH_DATA (default /var/tmp/pcb-issue6); delete it afterwards.
#
#   benchmarks/issue6.sh idle | fill [MiB [BROKER-OPTION...]] | memory [N] | scale [FILES] | agentwait [ROUNDS]
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/java.sh" -Dpcb.bench.data="${PCB_BENCH_DATA:-/var/tmp/pcb-issue6}" \
    dev.pcb.bench.Issue6Bench "$@"
