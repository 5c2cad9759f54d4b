# Draws chart.png from chart.dat (written by roche_bench): median ops/s of
# every engine and the machine's limit, per workload, on a log scale.
# Usage: gnuplot -e "dir='bench/results'" bench/chart.gp
if (!exists("dir")) dir = "bench/results"
set terminal pngcairo size 1400,700 font ",10"
set output dir."/chart.png"
set title "libroche vs peers: median ops/s per workload (log scale; higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set logscale y
set format y "10^{%L}"
set ylabel "ops/s (values/s for multiget, records/s for scan)"
set grid ytics
set key outside right top
set xtics rotate by -30 noenhanced
set datafile missing "-"
plot for [col=2:8] dir."/chart.dat" using col:xtic(1) title columnheader(col)
