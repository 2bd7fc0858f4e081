#!/usr/bin/env bash
# pureneuron on a Slurm cluster: the shard steps (plan, accumulate, merge, finish) as Slurm jobs,
# one job array per pass, each step depending on the last with --dependency=afterok, so a failing
# shard cancels everything after it (--kill-on-invalid-dep=yes) and no model is written.
#
#   examples/slurm/pureneuron-slurm.sh submit SHARDS WORKDIR [plan options…]
#
# SHARDS: a text file, one shard per line in data order, each line the source flags of that shard:
#     --x /data/s0/x.f64 --y /data/s0/y.f64 --d 20 --l 15
#     --data /data/part-1.parquet --x-columns x* --y-columns y
# WORKDIR: a directory on the shared file system for the state files, the logs and model.json.
# Plan options: the learn options, e.g. --k 10 --chunk-rows 65536 (see `pureneuron plan --help`).
#
# The flow (docs/distributed.md): a plan job on the first shard; then, per step, an array job with
# one task per shard (`pureneuron accumulate --pass P`) and a merge job after it, which merges the
# parts in shard order and — as `merge` names the next step — submits the next array and merge, or
# the finish job that writes WORKDIR/model.json. A failing task cancels the rest of the run and
# writes WORKDIR/FAILED with its error (the task's log names the shard's file). Environment:
#   PURENEURON     the command that runs pureneuron (default: pureneuron)
#   SBATCH_ARGS    extra sbatch arguments for every job (partition, account, time, memory …)
set -euo pipefail

PURENEURON=${PURENEURON:-pureneuron}
SBATCH_ARGS=${SBATCH_ARGS:-}
SELF=$(readlink -f "$0")

die() { echo "pureneuron-slurm: $*" >&2; exit 1; }

# sbatch with the common arguments; prints the job id.
submit() { sbatch --parsable --kill-on-invalid-dep=yes $SBATCH_ARGS "$@"; }

# The source flags of shard I (0-based) of SHARDS.
shard() { sed -n "$(( $2 + 1 ))p" "$1"; }

# Submits the array job of step STEP (pass PASS, input STATE) and the merge job after it.
submit_step() {
  local shards=$1 work=$2 step=$3 pass=$4 state=$5 after=${6:-}
  local n; n=$(grep -c . "$shards")
  local dep=(); [ -n "$after" ] && dep=(--dependency="afterok:$after")
  local array
  array=$(submit "${dep[@]}" --job-name="pn-$step-$pass" --array="0-$((n - 1))" \
    --output="$work/logs/step$step-%a.out" "$SELF" accumulate "$shards" "$work" "$step" "$pass" "$state")
  submit --dependency="afterok:$array" --job-name="pn-$step-merge" --output="$work/logs/step$step-merge.out" \
    "$SELF" merge "$shards" "$work" "$step" > /dev/null
  # Only if a task failed (else Slurm cancels it): WORKDIR/FAILED with the failing tasks' errors.
  submit --dependency="afternotok:$array" --job-name="pn-$step-failed" --output=/dev/null \
    --wrap="grep -H '^pureneuron:' $work/logs/step$step-*.out > $work/FAILED || echo 'step $step failed' > $work/FAILED" > /dev/null
}

cmd=${1:-}; shift || true
case "$cmd" in
  submit)
    [ $# -ge 2 ] || die "usage: $0 submit SHARDS WORKDIR [plan options…]"
    shards=$(readlink -f "$1"); work=$(readlink -f "$2"); shift 2
    [ -s "$shards" ] || die "$shards is missing or empty"
    command -v sbatch > /dev/null || die "sbatch is not on the PATH: run this on a Slurm login node"
    mkdir -p "$work/logs"
    rm -f "$work/model.json" "$work/FAILED"
    # shellcheck disable=SC2046 # the line's flags are meant to split into words
    plan=$(submit --job-name=pn-plan --output="$work/logs/plan.out" \
      --wrap="$PURENEURON plan $(shard "$shards" 0) $* --out $work/plan.state --quiet")
    submit_step "$shards" "$work" 1 1 "$work/plan.state" "$plan"
    echo "submitted: plan job $plan, then one array of $(grep -c . "$shards") tasks per pass; the model will be $work/model.json"
    ;;
  accumulate)
    shards=$1 work=$2 step=$3 pass=$4 state=$5
    i=${SLURM_ARRAY_TASK_ID:?accumulate runs as a task of a Slurm job array}
    # shellcheck disable=SC2046
    exec $PURENEURON accumulate --pass "$pass" $(shard "$shards" "$i") --state "$state" --out "$work/part-$step-$i.state" --quiet
    ;;
  merge)
    shards=$1 work=$2 step=$3
    n=$(grep -c . "$shards")
    parts=(); for ((i = 0; i < n; i++)); do parts+=("$work/part-$step-$i.state"); done   # shard order
    next=$($PURENEURON merge "${parts[@]}" --out "$work/state-$step.state" --quiet)
    rm -f "${parts[@]}"
    if [ "$next" = finish ]; then
      $PURENEURON finish --state "$work/state-$step.state" --out "$work/model.json"
    else
      submit_step "$shards" "$work" $((step + 1)) "$next" "$work/state-$step.state"
    fi
    ;;
  *)
    die "usage: $0 submit SHARDS WORKDIR [plan options…]"
    ;;
esac
