# Bar chart of read throughput (MB/s) per access path. Input: throughput.dat (case, sequential, random 4 KiB).
# Called by render.sh; variables: datafile, outfile, title_suffix.
set terminal pngcairo size 900,500 font ",11"
set output outfile
set title "pcb read throughput, ".title_suffix
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set ylabel "MB/s (higher is better)"
set yrange [0:*]
set grid ytics
set key top right
plot datafile using 2:xtic(1) title "sequential" lc rgb "#1f77b4", \
     ''       using 3 title "random 4 KiB" lc rgb "#ff7f0e", \
     ''       using ($0-0.15):($2):(sprintf("%d",$2)) with labels offset 0,0.7 notitle, \
     ''       using ($0+0.15):($3):(sprintf("%d",$3)) with labels offset 0,0.7 notitle
