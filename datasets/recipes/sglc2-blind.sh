#!/usr/bin/env bash
# II SGLC-like blind test set: 100,000 Euclid systems of another seed, images only
# (IDs 200000–299999); the truth catalogue goes to datasets/sglc2-blind-truth.csv (and the run's
# configuration, with its seed, to datasets/sglc2-blind-truth.toml): hand out the folder, keep
# those two. Score a submission (CSV: ID,score) with
#   cargo run --release -p train -- score --truth datasets/sglc2-blind-truth.csv --submission FILE
# Size: 23.3 GB (24.2 GB as `du` counts), 400,000 files; about 16 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --release -p sim -- generate --survey euclid-sglc2 -n 100000 --seed 2 \
    --format sglc --blind --first-id 200000 --out datasets/sglc2-blind \
    --truth datasets/sglc2-blind-truth.csv "$@"
