#!/usr/bin/env bash
# II SGLC-like training set: 100,000 Euclid systems (VIS 200×200 at 0.1", Y/J/H 66×66 at 0.3")
# as the second challenge simulated them (survey preset euclid-sglc2), in the challenge's layout:
#   datasets/sglc2-train/Public/EUC_{VIS,Y,J,H}/imageEUC_<band>-<ID>.fits   (IDs 100000–199999)
#   datasets/sglc2-train/image_catalog2.0train.csv                          (27 columns)
# Size: 233.8 kB per system (4 uncompressed float32 FITS files and a catalogue row): 23.4 GB
# (24.2 GB as `du` counts 4 kB blocks), 400,000 files. About 16 minutes at 103 systems/s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run --release -p sim -- generate --survey euclid-sglc2 -n 100000 --seed 1 \
    --format sglc --first-id 100000 --out datasets/sglc2-train "$@"
