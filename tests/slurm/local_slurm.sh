#!/usr/bin/env bash
# A throwaway Slurm cluster on localhost: munged, slurmctld and slurmd from the Debian packages,
# with a generated slurm.conf and every file under one folder. Sourced by the slurm-suite test.
#
#   source tests/slurm/local_slurm.sh
#   slurm_start DIR      # exports SLURM_CONF; waits until the node is idle
#   slurm_stop           # stops exactly the daemons slurm_start started
# Needs root (the daemons run as root here) and the packages slurm-wlm and munge.

slurm_pids=()

slurm_stop() {
  local pid
  for pid in "${slurm_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${slurm_pids[@]}"; do
    # wait for each to exit, so the folder can be removed and ports are free for the next run
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  slurm_pids=()
}

slurm_start() {
  local dir=$1 host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
  chmod 711 "$dir" "$dir/munge"

  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --foreground --force --key-file="$dir/munge/munge.key" \
    --socket="$dir/munge/munge.sock" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    > "$dir/munge/munged.out" 2>&1 &
  slurm_pids+=($!)
  for _ in $(seq 100); do [ -S "$dir/munge/munge.sock" ] && break; sleep 0.1; done

  # Ports away from the defaults, so a real Slurm on the machine is not disturbed.
  cat > "$dir/slurm.conf" <<CONF
ClusterName=warpsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -D -i -f "$SLURM_CONF" > "$dir/slurmctld.out" 2>&1 &
  slurm_pids+=($!)
  slurmd -D -f "$SLURM_CONF" > "$dir/slurmd.out" 2>&1 &
  slurm_pids+=($!)

  local state=""
  for _ in $(seq 120); do
    state=$(sinfo --noheader --format=%T 2>/dev/null || true)
    [ "$state" = "idle" ] && return 0
    sleep 0.5
  done
  echo "local Slurm did not come up (node state '$state'); logs:" >&2
  tail -n 20 "$dir"/slurmctld.log "$dir"/slurmd.log "$dir"/*.out "$dir/munge/munged.log" >&2 || true
  return 1
}
