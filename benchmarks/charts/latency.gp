# Acquire/release latency percentile plot from HdrHistogram .hgrm files (remote pair vs ring floor vs retained vs local held).
# Called by render.sh; variables: dir, outfile, title_suffix.
set terminal pngcairo size 900,500 font ",11"
set output outfile
set title "acquire+release latency by percentile, ".title_suffix
set logscale x
set logscale y
set xlabel "percentile"
set ylabel "latency (us, log scale; lower is better)"
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000, "99.9999%%" 1000000)
set grid
set key top left
plot dir."/remotePair.hgrm" using 4:1 every ::1 with lines lw 2 title "remote pair (agent JVM -> broker JVM)", \
     dir."/ringFloor.hgrm"  using 4:1 every ::1 with lines lw 2 title "ring floor (two threads, one JVM)", \
     dir."/retainedPair.hgrm" using 4:1 every ::1 with lines lw 2 title "retained (window kept pinned after close)", \
     dir."/localHeld.hgrm"  using 4:1 every ::1 with lines lw 2 title "local (window already held)"
