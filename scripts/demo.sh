#!/usr/bin/env bash
# The main job on the embedded default (SQLite + local MLflow under var/): a small synthetic city,
# end to end — generate, ingest, build features, train and register both subjects' models, publish
# scores with reasons.
# Run through `make demo`. DEMO_PEOPLE / DEMO_ENTERPRISES change the size.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
CITY=var/city
AS_OF=2025-06-30

echo "== database"
"$BIN/credit" db upgrade
echo "== synthetic city"
"$BIN/credit" synth --people "${DEMO_PEOPLE:-10000}" --enterprises "${DEMO_ENTERPRISES:-1000}" --months 36 \
  --as-of "$AS_OF" --seed 7 --out "$CITY"
echo "== ingestion"
"$BIN/credit" ingest "$CITY/files"
echo "== features"
"$BIN/credit" features build --as-of "$AS_OF"
echo "== models"
"$BIN/credit" train --subject person --model lgbm --as-of "$AS_OF" --truth "$CITY/truth" --actor demo
"$BIN/credit" train --subject person --model scorecard --as-of "$AS_OF" --truth "$CITY/truth" --actor demo
"$BIN/credit" train --subject enterprise --model lgbm --as-of "$AS_OF" --truth "$CITY/truth" --actor demo
"$BIN/credit" models list
echo "== scores"
"$BIN/credit" score --as-of "$AS_OF"
echo
echo "Done. Browse the runs, registered models and model cards with:"
echo "  $BIN/mlflow ui --backend-store-uri sqlite:///var/mlflow.db"
echo "Model cards are also under var/cards/."
