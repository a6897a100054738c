#!/usr/bin/env bash
# A large training set the way clusters make them: a Slurm array job with one `sim generate
# --shard i/n` per task, then one `sim merge` of the shards once every task has succeeded.
# System k depends only on (SEED, k), so every task takes the run's seed, never its array index,
# and the merged file holds the same data as one whole run (the shards may run on any nodes, in
# any order, with any thread count, on the CPU or a GPU).
#
#   datasets/recipes/slurm-generate.sh submit   on the login node: sbatch the array (TASKS tasks)
#                                               and the merge, which waits for the array (afterok)
#   datasets/recipes/slurm-generate.sh task     what each array task runs (SLURM_ARRAY_TASK_ID of
#                                               SLURM_ARRAY_TASK_COUNT)
#   datasets/recipes/slurm-generate.sh merge    what the merge job runs
#
# Without Slurm, the same tasks run as plain processes (what sim/tests/generate.rs does):
#   for i in 0 1 2 3; do SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=4 \
#     datasets/recipes/slurm-generate.sh task; done
#   datasets/recipes/slurm-generate.sh merge
#
# Settings by environment variable (sbatch passes the submitting shell's environment on):
set -euo pipefail
cd "$(dirname "$0")/../.."

SIM=${SIM:-target/release/sim}     # the sim binary (built with --features cuda for GPU nodes)
SURVEY=${SURVEY:-euclid}
POPULATION=${POPULATION:-sglc2}
N=${N:-100000}                     # systems in the whole run
SEED=${SEED:-1}                    # the run's seed, the same for every task
TASKS=${TASKS:-16}                 # array tasks (shards)
DEVICE=${DEVICE:-auto}             # per task: cuda on GPU nodes, cpu elsewhere
THREADS=${THREADS:-${SLURM_CPUS_PER_TASK:-0}}  # 0: every core the task has
OUT=${OUT:-datasets/slurm-$SURVEY-$POPULATION-n$N-s$SEED}  # shards/ and the merged .h5
SBATCH_ARGS=${SBATCH_ARGS:-}       # e.g. "--partition=gpu --gres=gpu:1 --time=01:00:00"

case "${1:-}" in
submit)
    mkdir -p "$OUT/shards" "$OUT/logs"
    # shellcheck disable=SC2086
    array=$(sbatch --parsable --array="0-$((TASKS - 1))" --job-name=lensforge-shard \
        --output="$OUT/logs/shard-%a.log" $SBATCH_ARGS --export=ALL "$0" task)
    # shellcheck disable=SC2086
    merge=$(sbatch --parsable --dependency="afterok:$array" --job-name=lensforge-merge \
        --output="$OUT/logs/merge.log" $SBATCH_ARGS --export=ALL "$0" merge)
    echo "submitted: array job $array ($TASKS shards of $N systems), merge job $merge into $OUT.h5"
    ;;
task)
    i=${SLURM_ARRAY_TASK_ID:?task runs inside a Slurm array job (or set SLURM_ARRAY_TASK_ID)}
    n=${SLURM_ARRAY_TASK_COUNT:-$TASKS}
    mkdir -p "$OUT/shards"
    # --resume: a task that was preempted or timed out continues its own partial file.
    "$SIM" generate --survey "$SURVEY" --population "$POPULATION" -n "$N" --seed "$SEED" \
        --shard "$i/$n" --device "$DEVICE" --threads "$THREADS" --resume \
        --out "$OUT/shards/shard-$i-of-$n.h5"
    ;;
merge)
    shopt -s nullglob
    shards=("$OUT"/shards/shard-*-of-*.h5)
    if [ ${#shards[@]} -eq 0 ]; then
        echo "slurm-generate: no shards in $OUT/shards" >&2
        exit 1
    fi
    # sim merge refuses a missing, repeated, partial or foreign shard, naming it.
    "$SIM" merge --out "$OUT.h5" "${shards[@]}"
    ;;
*)
    echo "usage: datasets/recipes/slurm-generate.sh submit | task | merge" >&2
    exit 2
    ;;
esac
