#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for trying pureneuron-slurm.sh and for its test: munge
# and Slurm's daemons (Debian's slurm-wlm, munge) started as root with their state in DIR.
#
#   examples/slurm/local-cluster.sh start DIR     # prints: export SLURM_CONF=DIR/slurm.conf
#   examples/slurm/local-cluster.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}; dir=$(mkdir -p "${2:?DIR}" && readlink -f "$2")
case "$cmd" in
  start)
    mkdir -p "$dir/state" "$dir/spool" "$dir/munge" "$dir/log"
    cpus=$(nproc)
    cat > "$dir/slurm.conf" <<CONF
ClusterName=pureneuron-local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmctldPort=$((17000 + RANDOM % 1000))
SlurmdPort=$((18000 + RANDOM % 1000))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ReturnToService=2
MpiDefault=none
SchedulerParameters=sched_interval=1,bf_interval=1
MessageTimeout=10
NodeName=localhost CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
    # munge: a key of our own and a socket in DIR (not the system's).
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
    munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"
    export SLURM_CONF=$dir/slurm.conf
    # Slurm's daemons and clients find munge's socket through the auth options.
    echo "AuthInfo=socket=$dir/munge/munge.socket" >> "$dir/slurm.conf"
    slurmctld -D -i > "$dir/log/slurmctld.out" 2>&1 &
    slurmd -D > "$dir/log/slurmd.out" 2>&1 &
    for _ in $(seq 1 100); do
      if sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed|allocated'; then echo "export SLURM_CONF=$dir/slurm.conf"; exit 0; fi
      sleep 0.2
    done
    echo "the local Slurm cluster did not come up; logs in $dir/log" >&2
    exit 1
    ;;
  stop)
    pids=""
    for f in slurmctld.pid slurmd.pid munge/munged.pid; do [ -f "$dir/$f" ] && pids="$pids $(cat "$dir/$f")"; done
    pids="$pids $(pgrep -f "slurmctld -D" || true) $(pgrep -f "slurmd -D" || true)"
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    # Wait for them to exit (they write their state on the way out), at most 10 s.
    for _ in $(seq 1 50); do
      alive=0; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ "$alive" = 0 ] && exit 0
      sleep 0.2
    done
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    ;;
esac
