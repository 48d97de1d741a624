#!/bin/sh
# run_fuzz.sh TARGET CORPUS RUNS: the seed corpus, then RUNS mutated executions of a libFuzzer
# target. New inputs go to a scratch folder, so the shipped corpus is never written; a finding
# (crash, sanitizer report, uncaught exception) fails the test, and its input is kept as
# fuzz-findings/<target>-crash-<hash> in the folder the test runs in (meson: the build folder).
set -eu
target=$(realpath "$1")
corpus=$(realpath "$2")
findings="$(pwd)/fuzz-findings"
mkdir -p "$findings"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$out"
"$target" -runs="$3" -seed=1 -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$findings/$(basename "$target")-" "$out" "$corpus"
