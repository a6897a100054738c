#!/usr/bin/env bash
# The seed study's three analyses after training, in one go: a two-branch EfficientNet trained on
# a simulated Euclid set (VIS + NISP H, J, Y), then
#   sweep-npix  its detection limit by lensed-source pixels (Fig. 11),
#   finetune    its move to KiDS-like data with N_img images: r into VIS, u, g, i into NIR,
#               fine-tuned against the same network trained from scratch (Fig. 12),
#   explain     LIME on lenses and non-lenses of the test split.
#
# Sizes by environment variable; the defaults are meant for a GPU (DEVICE=auto picks it when the
# binaries were built with FEATURES="--features cuda"). The CPU run whose figures
# datasets/README.md gives (stamps of 4.8"; 79 min on 2 cores with Burn's own depthwise
# convolution, whose epochs of about 9 min now take about 2):
#   N=8000 N_KIDS=1500 TEST_FRACTION=0.25 VARIANT=b0 EPOCHS=6 FOLDS=5 FOLDS_TO_TRAIN=1 BATCH=32 \
#     BN_MOMENTUM=0.1 VIS_STAMP=48 NIR_STAMP=16 KIDS_STAMP=24 N_IMG=40,200 TEST_GROUPS=3 \
#     FT_EPOCHS=6 SAMPLES=300 datasets/recipes/euclid-analyses.sh
# At full-size stamps on 2 cores (74 min; a B2 that does not learn in 5 epochs, see
# datasets/README.md):
#   N=8000 N_KIDS=1500 TEST_FRACTION=0.25 VARIANT=b2 EPOCHS=5 FOLDS=5 FOLDS_TO_TRAIN=1 BATCH=32 \
#     BN_MOMENTUM=0.1 N_IMG=40,200 TEST_GROUPS=3 FT_EPOCHS=5 SAMPLES=300 \
#     datasets/recipes/euclid-analyses.sh
# A CPU smoke run:
#   N=200 N_KIDS=300 EPOCHS=1 FOLDS=2 FOLDS_TO_TRAIN=1 VARIANT=b0 WIDTH=0.25 DEPTH=0.3 \
#     N_IMG=10,20 TEST_GROUPS=2 FT_EPOCHS=1 SAMPLES=50 datasets/recipes/euclid-analyses.sh
# Everything lands in $OUT (runs/euclid-analyses): the two datasets, the run with its
# sweep-npix.{json,png} and explain/, and finetune/.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-10000}                 # Euclid systems (training, validation and the test split)
TEST_FRACTION=${TEST_FRACTION:-0.25}   # the sweep's bins come from the test split
N_KIDS=${N_KIDS:-5000}        # KiDS-like systems: the fine-tuning pool and its test groups
VARIANT=${VARIANT:-b2}
WIDTH=${WIDTH:-0}             # compound scaling for small runs (0: the variant's)
DEPTH=${DEPTH:-0}
EPOCHS=${EPOCHS:-20}
FOLDS=${FOLDS:-5}
FOLDS_TO_TRAIN=${FOLDS_TO_TRAIN:-3}
BATCH=${BATCH:-64}
N_IMG=${N_IMG:-20,40,100,200,500}
TEST_GROUPS=${TEST_GROUPS:-5}
FT_EPOCHS=${FT_EPOCHS:-20}
SAMPLES=${SAMPLES:-1000}      # LIME's perturbed copies per system
BN_MOMENTUM=${BN_MOMENTUM:-0.01}   # short runs want 0.1 (configs/train/default.toml)
VIS_STAMP=${VIS_STAMP:-200}   # stamp sides in pixels: Euclid's VIS and NISP presets, and KiDS's;
NIR_STAMP=${NIR_STAMP:-66}    # smaller ones cut the field of view (keep the three alike:
KIDS_STAMP=${KIDS_STAMP:-101} # VIS_STAMP × 0.1" ≈ NIR_STAMP × 0.3" ≈ KIDS_STAMP × 0.2")
DEVICE=${DEVICE:-auto}
OUT=${OUT:-runs/euclid-analyses}
FEATURES=${FEATURES:-}        # e.g. "--features cuda"

if [ -e "$OUT" ]; then
    echo "euclid-analyses: $OUT exists; remove it or set OUT" >&2
    exit 1
fi
mkdir -p "$OUT"
# shellcheck disable=SC2086
cargo build --release $FEATURES -p sim -p train
sim=target/release/sim
train=target/release/train

# The Euclid and KiDS presets with their stamps at the sides above.
sed -e "s/^size = 200$/size = $VIS_STAMP/" -e "s/^size = 66$/size = $NIR_STAMP/" \
    configs/surveys/euclid.toml >"$OUT/euclid.toml"
sed -e "s/^size = 101 .*/size = $KIDS_STAMP/" configs/surveys/kids.toml >"$OUT/kids.toml"
if [ "$(grep -c "^size = $VIS_STAMP$" "$OUT/euclid.toml")" -lt 1 ] ||
    [ "$(grep -c "^size = $NIR_STAMP$" "$OUT/euclid.toml")" -lt 3 ] ||
    [ "$(grep -c "^size = $KIDS_STAMP$" "$OUT/kids.toml")" != 4 ]; then
    echo "euclid-analyses: could not set the stamp sizes in $OUT/euclid.toml or kids.toml" >&2
    exit 1
fi
"$sim" generate --survey "$OUT/euclid.toml" -n "$N" --seed 1 --out "$OUT/euclid.h5"
"$sim" generate --survey "$OUT/kids.toml" -n "$N_KIDS" --seed 2 --out "$OUT/kids.h5"

"$train" run --data "$OUT/euclid.h5" --variant "$VARIANT" --width "$WIDTH" --depth "$DEPTH" \
    --bn-momentum "$BN_MOMENTUM" \
    --test-fraction "$TEST_FRACTION" --epochs "$EPOCHS" --folds "$FOLDS" \
    --folds-to-train "$FOLDS_TO_TRAIN" --batch "$BATCH" --device "$DEVICE" --out "$OUT/run"
"$train" sweep-npix --run "$OUT/run"
"$train" finetune --run "$OUT/run" --data "$OUT/kids.h5" --n-img "$N_IMG" --groups "$TEST_GROUPS" \
    --epochs "$FT_EPOCHS" --device "$DEVICE" --out "$OUT/finetune"
"$train" explain --run "$OUT/run" --per-class 3 --samples "$SAMPLES"
