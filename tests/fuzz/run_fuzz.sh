#!/bin/sh
# run_fuzz.sh TARGET CORPUS RUNS: the seed corpus, then RUNS mutated executions of a libFuzzer
# target. New inputs go to a scratch folder, so the shipped corpus is never written; a finding
# (crash, sanitizer report, uncaught exception) fails the test and libFuzzer prints the input.
set -eu
target=$(realpath "$1")
corpus=$(realpath "$2")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$out"
"$target" -runs="$3" -seed=1 -max_len=65536 -print_final_stats=1 "$out" "$corpus"
