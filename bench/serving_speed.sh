#!/usr/bin/env bash
# Serving speed (issue 16's bar): the whole Splitwise conversation trace (19,366 requests over
# 3,500 s) on Llama-2-70B, TP 4 on a DGX H100, under vllm -- simulated seconds per wall second
# and peak memory. Figures go to docs/performance.md.
#   bench/serving_speed.sh [build/app/warpsim] [repeats]
# Prints, best of `repeats` (noise on a shared machine only ever slows a run): wall seconds,
# simulated seconds, their ratio, iterations simulated, shapes priced on the GPU and network
# models, and the peak resident memory of the run.
set -euo pipefail
cd "$(dirname "$0")/.."
warpsim=$(realpath "${1:-build/app/warpsim}")
repeats=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
best_wall=""
best_rss=""
for i in $(seq 1 "$repeats"); do
  rm -rf "$tmp/out"
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$warpsim" serve --model llama2-70b --system dgx-h100 \
    --tp 4 --policy vllm --trace ../shared/data/request-traces/splitwise_conv.csv \
    --quiet --out "$tmp/out"
  read -r wall rss < "$tmp/time"
  if [ -z "$best_wall" ] || awk "BEGIN { exit !($wall < $best_wall) }"; then best_wall=$wall; fi
  if [ -z "$best_rss" ] || [ "$rss" -lt "$best_rss" ]; then best_rss=$rss; fi
done
python3 - "$tmp/out/metrics.json" "$best_wall" "$best_rss" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
wall, rss = float(sys.argv[2]), int(sys.argv[3])
span = m["span_s"]
print(f"wall {wall:.2f} s  simulated {span:.1f} s  sim/wall {span / wall:.0f}x  "
      f"requests {m['finished']:.0f} (+{m['rejected']:.0f} rejected)  iterations {m['iterations']:.0f}  "
      f"shapes priced {m['shapes_priced']:.0f}  peak RSS {rss / 1024:.0f} MiB")
PY
