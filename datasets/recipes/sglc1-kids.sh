#!/usr/bin/env bash
# I SGLC-like ground-based set: 20,000 KiDS systems (u, g, r, i, 101×101 at 0.2"), in the first
# challenge's layout:
#   datasets/sglc1-kids/Public/Band{1,2,3,4}/imageSDSS_{R,I,G,U}-<ID>.fits   (IDs 100000–119999)
#   datasets/sglc1-kids/classifications.csv   (ID, is_lens, Einstein_area, numb_pix_lensed_image,
#                                              flux_lensed_image_in_sigma)
# Size: 184.6 kB per system: 3.7 GB (3.9 GB as `du` counts), 80,000 files; about 2.5 minutes at
# 132 systems/s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --release -p sim -- generate --survey kids -n 20000 --seed 3 \
    --format sglc --first-id 100000 --out datasets/sglc1-kids "$@"
