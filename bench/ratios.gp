# Draws bench/report.sh's ratios as a horizontal bar chart in SVG: one bar per benchmark,
# from the BEAM line at 1.0 to the ratio, on a log scale so that 4x better and 4x worse
# are bars of the same length.
#   gnuplot -c bench/ratios.gp DATA OUT.svg HEIGHT "GROUPS" "SUBTITLE"
# DATA: tab-separated lines "y  group  name  ratio", only measured rows; y is the row's
# slot from the top. GROUPS: the groups in DATA, space-separated, in the order of the key.
data = ARG1
height = int(ARG3)
groups = ARG4

# noenhanced: benchmark names hold '_', which enhanced text would read as subscripts.
set terminal svg size 1000, height dynamic noenhanced font "Arial,12" background "white"
set output ARG2
set datafile separator "\t"

stats data using 1 nooutput
maxy = STATS_max
stats data using 4 nooutput
nrows = STATS_records
# Room for the value labels beyond the longest bars on either side; the left end goes
# down to a power of ten so that the axis always has a labelled tic left of 1x.
xmin = 10 ** floor(log10((STATS_min < 1 ? STATS_min : 1) / 3.0))
xmax = (STATS_max > 1 ? STATS_max : 1) * 3.0

set title sprintf("Spindle against BEAM, %d benchmarks: how many times better Spindle does\n%s", nrows, ARG5)
set xlabel "Spindle/BEAM throughput, log scale (memory per process and connection set-up time: BEAM/Spindle),\nso > 1 always means Spindle is better"
set logscale x 10
set xrange [xmin:xmax]
set format x "%gx"
set mxtics 10
set grid xtics mxtics lc rgb "#dddddd" lw 1, lc rgb "#f0f0f0" lw 1
# Top to bottom, in the order of the report.
set yrange [maxy + 1:-1.5]
set ytics scale 0 nomirror
set xtics nomirror
set border 3
set key outside bottom center horizontal
set bmargin 7  # the two-line x label and the key below it
set style fill solid 0.85 noborder

# The reference: 1.0 is BEAM's own figure.
set arrow from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb "#444444" front
set label "BEAM = 1x" at 1, graph 1 left offset 0.6, -0.6 front

bar_lo(r) = r < 1 ? r : 1
bar_hi(r) = r < 1 ? 1 : r
colors = "#1f77b4 #ff7f0e #2ca02c #9467bd #8c564b #d62728"

# The first element draws nothing: it only puts every row's name on the y axis, once.
plot data using (NaN):1:ytic(3) notitle, \
     for [i = 1:words(groups)] data \
       using (strcol(2) eq word(groups, i) ? 1 : NaN):1:(bar_lo($4)):(bar_hi($4)):($1 - 0.38):($1 + 0.38) \
       with boxxyerror lc rgb word(colors, (i - 1) % words(colors) + 1) title word(groups, i), \
     data using ($4 >= 1 ? $4 : NaN):1:(sprintf(" %.2fx", $4)) with labels left notitle, \
     data using ($4 < 1 ? $4 : NaN):1:(sprintf("%.2fx ", $4)) with labels right notitle
