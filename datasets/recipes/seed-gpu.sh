#!/usr/bin/env bash
# The seed study sized to one time budget (one GPU call of the device tool: about 8 minutes):
# generate a Euclid training set (population sglc2, full 200/66-pixel stamps), train the II SGLC
# winners' two-branch EfficientNet-B2 as they did (II SGLC clipping, VIS repeated into three
# channels, Rectified Adam, augmentation), sweep its detection limit by lensed-source pixels,
# and report, all inside BUDGET seconds.
#
#   datasets/recipes/seed-gpu.sh [study]   the trained finder, its report and sweep-npix
#   datasets/recipes/seed-gpu.sh table1    the seed's Table 1 grid on one dataset: input (HJY,
#                                          VIS, HJY+VIS, Y+VIS) × clipping (none, sglc2,
#                                          alternative) × VIS channels (repeated, zeros)
#
# It sizes itself: it first times a few training steps (`train bench`, which also compiles the
# GPU kernels) and a small generation probe, then chooses the number of systems or of epochs so
# that every stage fits the budget, and says what it chose and why. Give N or EPOCHS to fix
# one of them (both: nothing is sized, the estimate is only printed).
#
# Everything it keeps goes to $OUT: log.txt, summary.json and summary.md (study), or table1.json
# and table1.md (table1), and the PNGs; datasets and models stay in $WORK, removed at the end
# unless KEEP_WORK=1. From the binaries that `scripts/gpu-check.sh pack` gathers:
#   BIN=/tmp/lensforge-gpu-pack/bin DEVICE=cuda BUDGET=420 datasets/recipes/seed-gpu.sh
# (`scripts/gpu-check.sh seed` does that). A dry run on this machine's CPU at a tiny size (what
# tests/seed_recipe.rs runs):
#   BIN=target/release DEVICE=cpu VARIANT=b0 WIDTH=0.25 DEPTH=0.3 VIS_STAMP=64 NIR_STAMP=32 \
#     BATCH=16 N=160 EPOCHS=1 FOLDS=2 BUDGET=120 datasets/recipes/seed-gpu.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

MODE=${1:-study}
BIN=${BIN:-target/release}        # the folder holding `sim` and `train`
DEVICE=${DEVICE:-auto}            # cuda, cpu or auto
BUDGET=${BUDGET:-420}             # seconds for everything, from the start of this script
N=${N:-0}                         # systems generated (0: sized to the budget)
EPOCHS=${EPOCHS:-0}               # epochs (0: sized to the budget)
TARGET_EPOCHS=${TARGET_EPOCHS:-10}  # when both N and EPOCHS are sized: this many epochs
MIN_N=${MIN_N:-100}               # fewer systems than this: the budget is too small
MAX_N=${MAX_N:-60000}             # at most this many systems (≈ 13 GB in memory at full stamps)
VARIANT=${VARIANT:-b2}
WIDTH=${WIDTH:-0}                 # compound scaling for tiny runs (0: the variant's)
DEPTH=${DEPTH:-0}
BATCH=${BATCH:-64}
FOLDS=${FOLDS:-5}
FOLDS_TO_TRAIN=${FOLDS_TO_TRAIN:-1}
TEST_FRACTION=${TEST_FRACTION:-0.2}  # the sweep's bins come from the test split
BN_MOMENTUM=${BN_MOMENTUM:-0.1}   # short runs want 0.1 (configs/train/default.toml)
VIS_STAMP=${VIS_STAMP:-200}       # Euclid's VIS and NISP stamps, pixels a side
NIR_STAMP=${NIR_STAMP:-66}
PROBE=${PROBE:-400}               # systems of the generation probe
BLOCK=${BLOCK:-}                  # sim generate's --block (on CUDA 4096 unless given)
SAFETY=${SAFETY:-1.3}             # a training step with real data against `train bench`'s
EVAL_SPEEDUP=${EVAL_SPEEDUP:-3}   # scoring (forward only) against a training step, per image
RESERVE=${RESERVE:-10}            # seconds kept for the report at the end
SEED=${SEED:-1}
OUT=${OUT:-runs/seed-gpu}           # the results (an empty folder or a new one)
WORK=${WORK:-}                    # datasets and models (default: a new temporary folder)
KEEP_WORK=${KEEP_WORK:-0}

case "$MODE" in study | table1) ;; *)
    echo "seed-gpu: unknown mode '$MODE' (study or table1)" >&2
    exit 2
    ;;
esac
for b in sim train; do
    [ -x "$BIN/$b" ] || { echo "seed-gpu: no $BIN/$b (set BIN to the folder of the binaries)" >&2; exit 2; }
done
if [ -e "$OUT" ] && [ -n "$(ls -A "$OUT")" ]; then
    echo "seed-gpu: $OUT is not empty; remove it or set OUT" >&2
    exit 1
fi
if [ -n "$WORK" ] && [ -e "$WORK" ]; then
    echo "seed-gpu: $WORK exists; remove it or set WORK" >&2
    exit 1
fi
[ -n "$WORK" ] || WORK=$(mktemp -d "${TMPDIR:-/tmp}/lensforge-seed.XXXXXX")
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
WORK=$(cd "$WORK" && pwd)
# Datasets and models go, whether the recipe ends or fails, unless they are to be kept.
trap '[ "$KEEP_WORK" = 1 ] || rm -rf "$WORK"' EXIT
BIN=$(cd "$BIN" && pwd)
exec > >(tee "$OUT/log.txt") 2>&1
sim=$BIN/sim
block=()
[ -n "$BLOCK" ] && block=(--block "$BLOCK")
[ -z "$BLOCK" ] && [ "$DEVICE" = cuda ] && block=(--block 4096)
train=$BIN/train
start=$(date +%s.%N)
elapsed() { awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }
# calc EXPRESSION: floating-point arithmetic (awk), printed with up to 6 significant digits.
calc() { awk "BEGIN { print $1 }"; }
stage_times=()
# timed NAME COMMAND...: run a stage and remember its wall time.
timed() {
    local name=$1 t0
    shift
    t0=$(date +%s.%N)
    echo "== $name ($(elapsed) s of $BUDGET so far)"
    "$@"
    stage_times+=("$name=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')")
}

# The GPU kernels' compiled code is kept between the processes (CubeCL's compilation cache,
# configured by a cubecl.toml in the working directory), so that only the first one compiles.
cat >"$WORK/cubecl.toml" <<EOF
[compilation]
cache = { file = "$WORK/kernel-cache" }
EOF
cd "$WORK"

# The Euclid preset with its stamps at the sides above.
sed -e "s/^size = 200$/size = $VIS_STAMP/" -e "s/^size = 66$/size = $NIR_STAMP/" \
    "$root/configs/surveys/euclid.toml" >"$WORK/euclid.toml"
if [ "$(grep -c "^size = $VIS_STAMP$" "$WORK/euclid.toml")" -lt 1 ] ||
    [ "$(grep -c "^size = $NIR_STAMP$" "$WORK/euclid.toml")" -lt 3 ]; then
    echo "seed-gpu: could not set the stamp sizes in $WORK/euclid.toml" >&2
    exit 1
fi

# 1. Measure: training steps (first the cold process, which compiles the kernels, then a warm one
#    for the start-up cost every later process pays) and a generation probe. The benchmark times
#    the variant at its own width and depth: with WIDTH or DEPTH set (tiny runs) the training is
#    faster than measured and the sizing conservative.
bench() {
    "$train" bench --device "$DEVICE" --variant "$VARIANT" --batch "$BATCH" --steps "$1" \
        --vis-size "$VIS_STAMP" --nir-size "$NIR_STAMP"
}
t0=$(date +%s.%N)
timed "measure: training steps (cold: the kernels compile)" bench 3 >"$WORK/bench.txt"
cat "$WORK/bench.txt"
rate=$(grep -oE '[0-9.]+ images/s' "$WORK/bench.txt" | tail -1 | cut -d' ' -f1)
t1=$(date +%s.%N)
timed "measure: training steps (warm)" bench 2 >/dev/null
t2=$(date +%s.%N)
startup=$(awk -v a="$t1" -v b="$t2" -v r="$rate" -v n="$BATCH" \
    'BEGIN { s = (b - a) - 3 * n / r; print (s > 0 ? s : 0) }')
cold=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
timed "measure: generation probe ($PROBE systems)" \
    "$sim" generate --survey "$WORK/euclid.toml" -n "$PROBE" --seed "$SEED" --device "$DEVICE" \
    "${block[@]}" --out "$WORK/probe.h5" >/dev/null
probe_s=${stage_times[-1]#*=}
rm -f "$WORK/probe.h5"
gen_rate=$(calc "$PROBE / ($probe_s > 0.05 ? $probe_s : 0.05)")
echo "measured: $rate images/s a training step (batch $BATCH), start-up ${startup} s a process" \
    "(the first, compiling: ${cold} s), generation $gen_rate systems/s"

# 2. Choose the sizes. Per system and epoch: its training share (k−1 of k folds of the
#    non-test part, at the measured rate times SAFETY) and its validation share (1 of k, scored
#    EVAL_SPEEDUP times faster), for each trained fold. Per system once: generation, and scoring
#    the test split (in `train run` and again in the sweep).
configs=()
if [ "$MODE" = study ]; then
    configs=("HJY+VIS|sglc2|repeated|both|H,J,Y")
else
    for clip in none sglc2 alternative; do
        configs+=("HJY|$clip|-|nir|H,J,Y")
        for ch in repeated zeros; do configs+=("VIS|$clip|$ch|vis|H,J,Y"); done
        for ch in repeated zeros; do configs+=("HJY+VIS|$clip|$ch|both|H,J,Y"); done
    done
    configs+=("Y+VIS|sglc2|zeros|both|Y")
fi
runs=${#configs[@]}
# The processes still to start, each paying the start-up: the generation, and the training
# runs (and the sweep).
processes=$((runs + 1))
evals=1
if [ "$MODE" = study ]; then
    processes=$((processes + 1))
    evals=2 # the test split is scored by `train run` and again by the sweep
fi
avail=$(calc "$BUDGET - $(elapsed) - $RESERVE - $processes * $startup")
per_epoch=$(calc "$runs * $FOLDS_TO_TRAIN * ((1 - $TEST_FRACTION) * ($FOLDS - 1) / $FOLDS * $SAFETY + (1 - $TEST_FRACTION) / $FOLDS / $EVAL_SPEEDUP) / $rate")
per_system=$(calc "1 / $gen_rate + $runs * $FOLDS_TO_TRAIN * $evals * $TEST_FRACTION / $EVAL_SPEEDUP / $rate")
why=""
if [ "$N" -gt 0 ] && [ "$EPOCHS" -gt 0 ]; then
    why="N and EPOCHS given"
elif [ "$N" -gt 0 ]; then
    EPOCHS=$(awk -v a="$avail" -v n="$N" -v s="$per_system" -v e="$per_epoch" \
        'BEGIN { x = int((a - n * s) / (n * e)); print (x > 0 ? x : 0) }')
    why="N=$N given; the epochs that fit the ${avail} s left for generation and training"
    if [ "$EPOCHS" -lt 1 ]; then
        echo "seed-gpu: not even one epoch of $N systems fits the budget of $BUDGET s; lower N or raise BUDGET" >&2
        exit 1
    fi
else
    [ "$EPOCHS" -gt 0 ] || EPOCHS=$TARGET_EPOCHS
    N=$(awk -v a="$avail" -v s="$per_system" -v e="$per_epoch" -v k="$EPOCHS" -v m="$MAX_N" \
        'BEGIN { x = int(a / (s + k * e)); print (x < m ? x : m) }')
    why="EPOCHS=$EPOCHS; the most systems (at most MAX_N=$MAX_N) whose generation and training fit the ${avail} s left"
    if [ "$N" -lt "$MIN_N" ]; then
        echo "seed-gpu: only $N systems of $EPOCHS epochs fit the budget of $BUDGET s (fewer than MIN_N=$MIN_N); lower EPOCHS or raise BUDGET" >&2
        exit 1
    fi
fi
estimate=$(calc "$(elapsed) + $processes * $startup + $N * ($per_system + $EPOCHS * $per_epoch)")
echo "chose: N=$N systems, $EPOCHS epochs, $runs configuration(s), $FOLDS_TO_TRAIN of $FOLDS folds, batch $BATCH ($why); expected to end at ${estimate} s of $BUDGET"

# 3. Generate, train, sweep.
timed "generate: $N Euclid systems (sglc2)" \
    "$sim" generate --survey "$WORK/euclid.toml" -n "$N" --seed "$SEED" --device "$DEVICE" \
    "${block[@]}" --out "$WORK/euclid.h5"
run_config() { # NAME CLIPPING CHANNELS BRANCHES NIR_BANDS FOLDER
    local channels=$3
    [ "$channels" = - ] && channels=repeated
    timed "train: $1, clipping $2, VIS $3" \
        "$train" run --data "$WORK/euclid.h5" --device "$DEVICE" --variant "$VARIANT" \
        --width "$WIDTH" --depth "$DEPTH" --bn-momentum "$BN_MOMENTUM" --branches "$4" \
        --nir-bands "$5" --clipping "$2" --vis-channels "$channels" --epochs "$EPOCHS" \
        --folds "$FOLDS" --folds-to-train "$FOLDS_TO_TRAIN" --batch "$BATCH" \
        --test-fraction "$TEST_FRACTION" --seed "$SEED" --out "$6"
}
i=0
for c in "${configs[@]}"; do
    IFS='|' read -r name clip channels branches bands <<<"$c"
    run_config "$name" "$clip" "$channels" "$branches" "$bands" "$WORK/run$i"
    i=$((i + 1))
done
if [ "$MODE" = study ]; then
    timed "sweep-npix: the detection limit by lensed-source pixels" \
        "$train" sweep-npix --run "$WORK/run0"
fi

# 4. Report: the few files to copy off the machine.
times=$(printf '%s\n' "${stage_times[@]}")
export MODE OUT WORK N EPOCHS BATCH VARIANT FOLDS FOLDS_TO_TRAIN TEST_FRACTION VIS_STAMP \
    NIR_STAMP DEVICE BUDGET rate startup cold gen_rate why estimate times
printf '%s\n' "${configs[@]}" >"$WORK/configs.txt"
python3 - <<'EOF'
import json, os, shutil
e = os.environ
out, work = e["OUT"], e["WORK"]
stages = dict(line.split("=", 1) for line in e["times"].splitlines() if line)
summary = {
    "mode": e["MODE"], "device": e["DEVICE"], "budget_s": float(e["BUDGET"]),
    "measured": {"train_images_per_s": float(e["rate"]), "process_startup_s": float(e["startup"]),
                 "first_process_s": float(e["cold"]), "generate_systems_per_s": float(e["gen_rate"])},
    "chosen": {"systems": int(e["N"]), "epochs": int(e["EPOCHS"]), "batch": int(e["BATCH"]),
               "variant": e["VARIANT"], "folds": int(e["FOLDS"]),
               "folds_trained": int(e["FOLDS_TO_TRAIN"]), "test_fraction": float(e["TEST_FRACTION"]),
               "stamps": [int(e["VIS_STAMP"]), int(e["NIR_STAMP"])], "why": e["why"],
               "expected_end_s": float(e["estimate"])},
    "stage_seconds": {k: float(v) for k, v in stages.items()},
}
def figures(r):
    return {m: r[m] for m in ("roc_auc", "pr_auc", "f_beta")}
def pm(x):
    return f"{x['mean']:.3f} ± {x['std']:.3f}"
configs = [c.split("|") for c in open(os.path.join(work, "configs.txt")).read().split("\n") if c]
rows = []
for i, (name, clip, channels, branches, bands) in enumerate(configs):
    r = json.load(open(os.path.join(work, f"run{i}", "report.json")))
    rows.append({"input": name, "clipping": clip, "vis_channels": channels,
                 "systems": r["systems"], "lenses": r["lenses"],
                 "test_systems": len(r["test_labels"]), **figures(r)})
head = "| input | clipping | VIS channels | ROC AUC | PR AUC | F_β |\n|---|---|---|---|---|---|\n"
table = head + "".join(f"| {r['input']} | {r['clipping']} | {r['vis_channels']} | {pm(r['roc_auc'])} | "
                       f"{pm(r['pr_auc'])} | {pm(r['f_beta'])} |\n" for r in rows)
if e["MODE"] == "study":
    run = os.path.join(work, "run0")
    summary["result"] = rows[0]
    sweep = json.load(open(os.path.join(run, "sweep-npix.json")))
    summary["sweep_npix"] = [{"n_pix": [b["n"], b["n_end"]], "lenses": b["lenses"],
                              "roc_auc": b["roc_auc"], "note": b["note"]} for b in sweep["bins"]]
    for f in ("report.json", "sweep-npix.json", "loss.png", "roc.png", "pr.png", "sweep-npix.png"):
        if os.path.exists(os.path.join(run, f)):
            shutil.copy(os.path.join(run, f), out)
    lines = [f"# The seed study in {e['BUDGET']} s on {e['DEVICE']}", "",
             f"{summary['chosen']['systems']} systems, {summary['chosen']['epochs']} epochs "
             f"({summary['chosen']['why']}).", "", table, "| N_pix | lenses | ROC AUC |", "|---|---|---|"]
    lines += [f"| {b['n_pix'][0]}–{b['n_pix'][1] - 1} | {b['lenses']} | "
              + (pm(b["roc_auc"]) if b["roc_auc"] else (b["note"] or "-")) + " |"
              for b in summary["sweep_npix"]]
    lines += ["", "stage seconds: " + ", ".join(f"{k} {v}" for k, v in stages.items())]
    open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
    json.dump(summary, open(os.path.join(out, "summary.json"), "w"), indent=1)
else:
    summary["table1"] = rows
    open(os.path.join(out, "table1.md"), "w").write(
        f"# The seed's Table 1 in {e['BUDGET']} s on {e['DEVICE']}: {e['N']} systems, "
        f"{e['EPOCHS']} epochs ({e['why']})\n\n" + table)
    json.dump(summary, open(os.path.join(out, "table1.json"), "w"), indent=1)
print(table)
EOF
cd "$root"
echo "== done in $(elapsed) s of $BUDGET; in $OUT: $(ls "$OUT" | tr '\n' ' ')"
