#!/usr/bin/env bash
# Render docs/bench-throughput.png and docs/bench-latency.png from one quick/full run directory (needs gnuplot-nox):
#   benchmarks/charts/render.sh benchmarks/results/quick-20261125-173427
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUN="$(cd "${1:?usage: render.sh RESULT_DIR}" && pwd)"
NAME="$(basename "$RUN")"
DAT="$(mktemp)"
trap 'rm -f "$DAT"' EXIT
# The read-throughput table rows of summary.md: | benchmark | MB/s | +/- |
row() { awk -F'|' -v b="$1" '{gsub(/ /,"",$2)} $2==b {gsub(/ /,"",$3); print $3; exit}' "$RUN/summary.md"; }
{
    echo "\"views\" $(row seqViews) $(row random4kViews)"
    echo "\"views, no retaining\" $(row seqViewsRoundTrip) $(row random4kViewsRoundTrip)"
    echo "\"views held\" $(row seqViewsHeld) $(row random4kViewsHeld)"
    echo "\"raw mapping\" $(row seqRawMapping) $(row random4kRawMapping)"
    echo "\"FileChannel\" $(awk -F'|' '$2 ~ /seqFileChannel/ {gsub(/ /,"",$3); print $3; exit}' "$RUN/summary.md") $(row random4kFileChannel)"
} > "$DAT"
gnuplot -e "datafile='$DAT'; outfile='$ROOT/docs/bench-throughput.png'; title_suffix='$NAME'" "$HERE/throughput.gp"
gnuplot -e "dir='$RUN'; outfile='$ROOT/docs/bench-latency.png'; title_suffix='$NAME'" "$HERE/latency.gp"
echo "wrote $ROOT/docs/bench-throughput.png $ROOT/docs/bench-latency.png"
