#!/usr/bin/env bash
# The main job on the embedded default (SQLite + local MLflow under var/): a small synthetic city,
# end to end. Run through `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
OUT=var/city
"$BIN/credit" db upgrade
"$BIN/credit" synth --people "${DEMO_PEOPLE:-5000}" --enterprises "${DEMO_ENTERPRISES:-500}" --months 36 \
  --as-of 2025-06-30 --seed 7 --out "$OUT"
"$BIN/credit" ingest "$OUT/files"
