#!/usr/bin/env bash
# Issue 9's benchmark: a /usr-like tree read whole through the agent, against a host `cat` of every file in the
# same run, and the region memory used per byte of file data.
#
#   benchmarks/small-files.sh [FILES] [RUNS]     (defaults: 20000 files, 3 runs; about a minute)
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/java.sh" dev.pcb.bench.SmallFilesBench "$@"
