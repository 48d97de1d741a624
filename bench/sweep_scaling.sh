#!/usr/bin/env bash
# How `warpsim sweep` scales with --jobs, and what its bookkeeping costs, on the 200-point
# quickstart sweep (bench/sweep-quickstart-200.yaml). Figures go to docs/performance.md.
#   bench/sweep_scaling.sh [build/app/warpsim] [repeats]
# Prints, best of `repeats` each (noise on a shared machine only ever slows a run):
#   loop    200 x `warpsim run --point` in a shell loop (the runs themselves, as one would script them)
#   jobs=1  `warpsim sweep --jobs 1`, jobs=2  `warpsim sweep --jobs 2`
#   collect `warpsim sweep --collect` on the finished folder: loading the sweep, resolving and
#           hashing 200 configs, checking the first point, writing results.csv — the sweep's
#           bookkeeping without the runs
set -euo pipefail
cd "$(dirname "$0")/.."
warpsim=$(realpath "${1:-build/app/warpsim}")
repeats=${2:-3}
sweep=bench/sweep-quickstart-200.yaml
scenario=configs/experiments/quickstart.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
best() { sort -g | head -1; }

time_loop() {
  rm -rf "$tmp/loop"
  local t0
  t0=$(now)
  for seed in $(seq 1 200); do
    "$warpsim" run "$scenario" --point --seed "$seed" --quiet --out "$tmp/loop/$seed"
  done
  calc "$(now) - $t0"
}

# Prints "wall cpu" seconds: cpu (user + sys of the sweep and its workers) shows whether more
# jobs cost more work, which wall time alone cannot show on a machine whose cores are busy.
time_sweep() {
  rm -rf "$tmp/sweep"
  local TIMEFORMAT='%R %U %S' t
  t=$( { time "$warpsim" sweep "$sweep" --jobs "$1" --out "$tmp/sweep" > /dev/null 2>&1; } 2>&1 )
  echo "$t" | awk '{ print $1, $2 + $3 }'
}

time_collect() {
  local t0
  t0=$(now)
  "$warpsim" sweep "$sweep" --collect --out "$tmp/sweep" > /dev/null
  calc "$(now) - $t0"
}

loop=$(for _ in $(seq "$repeats"); do time_loop; done | best)
j1=$(for _ in $(seq "$repeats"); do time_sweep 1; done | sort -g | head -1)
j2=$(for _ in $(seq "$repeats"); do time_sweep 2; done | sort -g | head -1)
collect=$(for _ in $(seq "$repeats"); do time_collect; done | best)
j1_wall=${j1% *} j1_cpu=${j1#* } j2_wall=${j2% *} j2_cpu=${j2#* }
printf 'loop of 200 runs   %6.2f s wall\n' "$loop"
printf 'sweep --jobs 1     %6.2f s wall, %6.2f s cpu   (wall %.1f%% of the loop)\n' \
  "$j1_wall" "$j1_cpu" "$(calc "100 * $j1_wall / $loop")"
printf 'sweep --jobs 2     %6.2f s wall, %6.2f s cpu   (speedup %.2fx over --jobs 1)\n' \
  "$j2_wall" "$j2_cpu" "$(calc "$j1_wall / $j2_wall")"
printf 'bookkeeping        %6.2f s wall             (%.1f%% of sweep --jobs 1)\n' \
  "$collect" "$(calc "100 * $collect / $j1_wall")"
printf 'load average now   %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
