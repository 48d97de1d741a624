#!/usr/bin/env bash
# GPU-sharing speed (issue 18's bars): each point of the GSLICE experiment (three CNN models at
# full load for 1 s on a V100, one sharing policy each) -- wall seconds, simulated seconds and
# their ratio, engine events -- and the whole gslice and dstack experiments' wall time. Figures
# go to docs/performance.md.
#   bench/sharing_speed.sh [build/app/warpsim] [repeats]
# Best of `repeats` (noise on a shared machine only ever slows a run).
set -euo pipefail
cd "$(dirname "$0")/.."
warpsim=$(realpath "${1:-build/app/warpsim}")
repeats=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
best() {  # best wall of `repeats` runs of "$@" into $tmp/out
  local b=""
  for i in $(seq 1 "$repeats"); do
    rm -rf "$tmp/out"
    /usr/bin/time -f "%e" -o "$tmp/time" "$warpsim" "$@" --quiet --out "$tmp/out"
    local w
    w=$(cat "$tmp/time")
    if [ -z "$b" ] || awk "BEGIN { exit !($w < $b) }"; then b=$w; fi
  done
  echo "$b"
}
for p in gslice mps-default mps-static temporal; do
  wall=$(best run configs/experiments/gslice.yaml --point --set policy=$p)
  sim=$(awk -F, '$1 == "run" && $2 == "simulated_seconds" {print $3}' "$tmp/out/stats.csv")
  events=$(awk -F, '$1 == "serve.sim" && $2 == "events" {print $3}' "$tmp/out/stats.csv")
  awk -v p="$p" -v w="$wall" -v s="$sim" -v e="$events" 'BEGIN {
    printf "gslice point %-12s wall %5.2f s  simulated %.2f s  sim/wall %.2fx  events %d (%.2f M/s)\n",
           p, w, s, s / w, e, e / w / 1e6 }'
done
# Eight batch-1 ResNet-50 processes co-running under MPS (the MPS validation's point): the
# hardest case, many small kernels on every SM.
wall=$(best run configs/experiments/mps_resnet50.yaml --point)
sim=$(awk -F, '$1 == "run" && $2 == "simulated_seconds" {print $3}' "$tmp/out/stats.csv")
events=$(awk -F, '$1 == "serve.sim" && $2 == "events" {print $3}' "$tmp/out/stats.csv")
awk -v w="$wall" -v s="$sim" -v e="$events" 'BEGIN {
  printf "mps_resnet50 point (8 processes, MPS) wall %5.2f s  simulated %.2f s  sim/wall %.3fx  events %d (%.2f M/s)\n",
         w, s, s / w, e, e / w / 1e6 }'
for x in gslice dstack autotune; do
  echo "$x experiment: wall $(best run configs/experiments/$x.yaml) s"
done
