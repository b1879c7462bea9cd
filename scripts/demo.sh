#!/usr/bin/env bash
# The main job on the embedded default (SQLite + local MLflow under var/): a small synthetic city,
# end to end — generate, ingest, build features, train and register both subjects' models, publish
# scores with reasons — then start the HTTP service and print development credentials per role.
#
# Run through `make demo`. Environment:
#   DEMO_PEOPLE / DEMO_ENTERPRISES   size of the city (default 3000 / 800)
#   DEMO_VAR                         working folder (default var; a fresh one starts from scratch)
#   DEMO_SERVE=0                     stop after printing the credentials (non-interactive runs)
#   DEMO_PORT                        port of the service (default 8000)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
VAR=${DEMO_VAR:-var}
CITY=$VAR/city
AS_OF=2025-06-30
PORT=${DEMO_PORT:-8000}
export CREDIT_VAR_DIR=$VAR
export CREDIT_DATABASE_URL=${CREDIT_DATABASE_URL:-sqlite:///$VAR/credit.db}
export CREDIT_MLFLOW_TRACKING_URI=${CREDIT_MLFLOW_TRACKING_URI:-sqlite:///$VAR/mlflow.db}
export CREDIT_MLFLOW_ARTIFACT_ROOT=${CREDIT_MLFLOW_ARTIFACT_ROOT:-$VAR/mlruns}
export CREDIT_BUNDLE_DIR=${CREDIT_BUNDLE_DIR:-$VAR/bundles}
mkdir -p "$VAR"
started=$(date +%s)
step() { echo "== $1  ($(($(date +%s) - started)) s)"; }

step "database"
"$BIN/credit" db upgrade
step "synthetic city"
rm -rf "$CITY"
"$BIN/credit" synth --people "${DEMO_PEOPLE:-3000}" --enterprises "${DEMO_ENTERPRISES:-800}" --months 36 \
  --as-of "$AS_OF" --seed 7 --out "$CITY"
step "ingestion"
"$BIN/credit" ingest "$CITY/files"
step "features"
"$BIN/credit" features build --as-of "$AS_OF"
step "models"
"$BIN/credit" train --subject person --model lgbm --as-of "$AS_OF" --truth "$CITY/truth" --actor demo
"$BIN/credit" train --subject person --model scorecard --as-of "$AS_OF" --truth "$CITY/truth" --actor demo
"$BIN/credit" train --subject enterprise --model lgbm --as-of "$AS_OF" --truth "$CITY/truth" --actor demo
"$BIN/credit" models list
step "scores"
"$BIN/credit" score --as-of "$AS_OF"
step "credentials"
"$BIN/credit" demo-credentials --bank demo-bank --port "$PORT" | tee "$VAR/demo-credentials.txt"
step "done"
echo "Browse the runs, registered models and model cards with:"
echo "  $BIN/mlflow ui --backend-store-uri $CREDIT_MLFLOW_TRACKING_URI"
echo "Model cards are also under $VAR/cards/; the credentials above are in $VAR/demo-credentials.txt."
if [ "${DEMO_SERVE:-1}" != "0" ]; then
  echo "== service on http://127.0.0.1:$PORT: citizen app /app/, staff pages /staff/, OpenAPI /docs;"
  echo "   sign in with the links printed above. Ctrl-C stops it"
  exec "$BIN/credit" serve --port "$PORT"
fi
