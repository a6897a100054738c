#!/usr/bin/env bash
# The DES study's worked example: three lens finders, each trained on its own simulated DES-like
# set (g, r, i at 0.263"; the `des-search` population, configs/populations/des-search.toml:
# lenses of σ ≥ 330 km/s, sources of 21–25 mag), score one common set; `train compare` says how
# far they agree and `train ensemble` combines them six ways. The truth covers the first
# LABELLED of the common set; the rest play the unlabelled candidates of the study's Table 1.
#
#   finders: cnn    = a Jacobs-style CNN            (--architecture jacobs)
#            vit    = a Vision Transformer, [model.vit] as VIT below
#            effnet = EfficientNet-B0 on g, r, i    (the Rojas finder)
#
# Sizes by environment variable; the defaults are meant for a GPU (DEVICE=auto picks it when the
# binaries were built with --features cuda). STAMP is the side of every stamp as drawn (no
# cropping or resizing). The CPU run whose figures datasets/README.md gives (36 min on 2 cores):
#   N=3000 N_COMMON=3000 LABELLED=2000 EPOCHS=6 BATCH=32 STAMP=40 VIT="40 8 96 4 4" \
#     BN_MOMENTUM=0.1 datasets/recipes/des-finders.sh
# A CPU smoke run:
#   N=120 N_COMMON=200 LABELLED=120 EPOCHS=1 FOLDS=2 VIT="32 8 32 1 2" datasets/recipes/des-finders.sh
# Everything lands in $OUT (runs/des-finders): the four datasets, the three runs, the score
# tables, compare/ and ensemble/.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20000}                 # systems in each finder's training set
N_COMMON=${N_COMMON:-10000}   # systems in the common set all three score
LABELLED=${LABELLED:-5000}    # of which the truth covers the first LABELLED
EPOCHS=${EPOCHS:-30}
FOLDS=${FOLDS:-5}
FOLDS_TO_TRAIN=${FOLDS_TO_TRAIN:-1}
BATCH=${BATCH:-64}
STAMP=${STAMP:-100}           # pixels a side of every stamp (DES cut-outs of 100 × 100 by default)
BN_MOMENTUM=${BN_MOMENTUM:-0.01}  # EfficientNet's BatchNorm momentum; short runs want 0.1
POPULATION=${POPULATION:-des-search}  # a population preset or TOML file
DEVICE=${DEVICE:-auto}
VIT=${VIT:-"64 8 192 6 6"}    # image patch width layers heads
OUT=${OUT:-runs/des-finders}
FEATURES=${FEATURES:-}        # e.g. "--features cuda"

if [ -e "$OUT" ]; then
    echo "des-finders: $OUT exists; remove it or set OUT" >&2
    exit 1
fi
mkdir -p "$OUT"
# shellcheck disable=SC2086
cargo build --release $FEATURES -p sim -p train
sim=target/release/sim
train=target/release/train

# The DES preset with every band's stamp at STAMP pixels a side.
sed -e "s/^size = 100 .*/size = $STAMP/" configs/surveys/des.toml >"$OUT/des.toml"
if [ "$(grep -c "^size = $STAMP$" "$OUT/des.toml")" != 4 ]; then
    echo "des-finders: could not set the four bands' stamp size in $OUT/des.toml" >&2
    exit 1
fi
for s in a:11 b:12 c:13 common:99; do
    name=${s%%:*} seed=${s##*:}
    n=$N
    [ "$name" = common ] && n=$N_COMMON
    "$sim" generate --survey "$OUT/des.toml" --population "$POPULATION" -n "$n" --seed "$seed" \
        --out "$OUT/des-$name.h5"
done

read -r image patch width layers heads <<<"$VIT"
sed -e "s/^image = .*/image = $image/" -e "s/^patch = .*/patch = $patch/" \
    -e "s/^width = 768/width = $width/" -e "s/^layers = .*/layers = $layers/" \
    -e "s/^heads = .*/heads = $heads/" configs/train/default.toml >"$OUT/vit.toml"

common=(--branches nir --nir-bands g,r,i --epochs "$EPOCHS" --folds "$FOLDS"
    --folds-to-train "$FOLDS_TO_TRAIN" --batch "$BATCH" --device "$DEVICE")
"$train" run --data "$OUT/des-a.h5" --architecture jacobs "${common[@]}" --out "$OUT/cnn"
"$train" run --config "$OUT/vit.toml" --data "$OUT/des-b.h5" --architecture vit "${common[@]}" \
    --out "$OUT/vit"
"$train" run --data "$OUT/des-c.h5" --architecture efficientnet --variant b0 \
    --bn-momentum "$BN_MOMENTUM" "${common[@]}" --out "$OUT/effnet"

for f in cnn vit effnet; do
    "$train" predict --run "$OUT/$f" --data "$OUT/des-common.h5" --out "$OUT/$f.csv"
done
# The truth: ID and label of the first LABELLED systems of the common set.
awk -F, -v n="$LABELLED" 'NR == 1 { print "id,is_lens"; next } NR <= n + 1 { print $1 "," $3 }' \
    "$OUT/cnn.csv" >"$OUT/truth.csv"

finders=(--finder "cnn=$OUT/cnn.csv" --finder "vit=$OUT/vit.csv" --finder "effnet=$OUT/effnet.csv"
    --truth "$OUT/truth.csv")
"$train" compare "${finders[@]}" --out "$OUT/compare"
"$train" ensemble "${finders[@]}" --out "$OUT/ensemble"
