#!/usr/bin/env bash
# Runs every benchmark (generation backends, SFT throughput, embedder vs langchain4j) and keeps their JSON.
#   scripts/bench.sh [OUT_DIR]   (default runs/bench)
set -euo pipefail
OUT=${1:-runs/bench}
RLSR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/rlsr"
mkdir -p "$OUT"
uptime | tee "$OUT/load.txt"
"$RLSR" bench generate --json "$OUT/generate.json"
"$RLSR" bench sft --json "$OUT/sft.json"
"$RLSR" bench embed --json "$OUT/embed.json"
uptime | tee -a "$OUT/load.txt"
echo "results in $OUT"
