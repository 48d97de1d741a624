#!/usr/bin/env bash
# Rewrites the golden baselines (tests/golden/<name>.json) from the runs in tests/golden/runs.txt.
# Run after a change that is meant to move results; review `git diff tests/golden` and say why
# in the commit message.
#   scripts/update_goldens.sh [build/app/warpsim]
set -euo pipefail
cd "$(dirname "$0")/.."
warpsim=${1:-build/app/warpsim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -v '^\s*#' tests/golden/runs.txt | grep -v '^\s*$' | grep -v '^tolerance ' |
while read -r name scenario args; do
  # shellcheck disable=SC2086  # the arguments are words, split on purpose
  "$warpsim" run "$scenario" $args --quiet --out "$tmp/$name"
  cp "$tmp/$name/metrics.json" "tests/golden/$name.json"
  echo "tests/golden/$name.json"
done
