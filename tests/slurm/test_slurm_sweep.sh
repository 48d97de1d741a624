#!/usr/bin/env bash
# Suite `slurm`: a sweep run through a real Slurm (munged + slurmctld + slurmd on localhost) must
# give the same results.csv, byte for byte, as the same sweep run locally.
#   meson test -C build --suite slurm
# Needs root; installs the Slurm and munge packages if they are missing (apt). Exit 77 = skipped.
set -euo pipefail
warpsim=$1
source_root=$2

if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: starting munge and the Slurm daemons needs root"
  exit 77
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || { echo "skipped: no Slurm and no apt-get"; exit 77; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm slurmctld slurmd munge
fi

source "$source_root/tests/slurm/local_slurm.sh"
work=$(mktemp -d /tmp/warpsim-slurm-test.XXXXXX)
cleanup() {
  slurm_stop
  rm -rf "$work"
}
trap cleanup EXIT

slurm_start "$work/cluster"
sweep="$source_root/configs/sweeps/transfers-mixed.yaml"

"$warpsim" sweep "$sweep" --jobs 2 --out "$work/local"
# 8 points in chunks of 3: three array tasks, the last one short.
"$warpsim" sweep "$sweep" --backend slurm --chunk-size 3 --time 5:00 --mem 500M \
  --partition local --out "$work/slurm"

grep -q '^#SBATCH --array=0-2$' "$work/slurm/slurm/sweep.sbatch"
grep -q '^#SBATCH --time=5:00$' "$work/slurm/slurm/sweep.sbatch"
[ "$(ls "$work"/slurm/slurm/task-*.log | wc -l)" -eq 3 ]
cmp "$work/local/results.csv" "$work/slurm/results.csv"
echo "Slurm and local results.csv are identical ($(($(wc -l < "$work/local/results.csv") - 1)) points)"

# --no-wait returns at once; --collect later gives the same table again.
rm -rf "$work/slurm/points"
"$warpsim" sweep "$sweep" --backend slurm --chunk-size 8 --no-wait --out "$work/slurm" \
  | grep -q 'submitted Slurm job'
for _ in $(seq 240); do
  [ -z "$(squeue --noheader --format=%i)" ] && break
  sleep 0.5
done
"$warpsim" sweep "$sweep" --collect --out "$work/slurm"
cmp "$work/local/results.csv" "$work/slurm/results.csv"
echo "collected after --no-wait: identical"
