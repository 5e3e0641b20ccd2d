#!/usr/bin/env bash
# Runs every benchmark (generation backends, SFT steps, RLSR iterations, embedder vs langchain4j) and keeps their JSON.
#   scripts/bench.sh [OUT_DIR]          the small random model (default runs/bench)
#   scripts/bench.sh OUT_DIR SHAPE      also at a built-in real shape, e.g. qwen2.5-0.5b (about 25 minutes on 2 cores)
set -euo pipefail
OUT=${1:-runs/bench}
SHAPE=${2:-}
RLSR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/rlsr"
mkdir -p "$OUT"
uptime | tee "$OUT/load.txt"
"$RLSR" bench generate --json "$OUT/generate.json"
"$RLSR" bench sft --json "$OUT/sft.json"
"$RLSR" bench train --json "$OUT/train.json"
"$RLSR" bench embed --json "$OUT/embed.json"
if [[ -n "$SHAPE" ]]; then
  # real size: SFT at batch 4 x 256 in micro-batches of 1, an RLSR iteration of 4 prompts x 4 completions x 64 tokens
  "$RLSR" bench sft --shape "$SHAPE" --batch 4 --micro-batch 1 --seq 256 --steps 2 --warmup 1 --json "$OUT/sft-$SHAPE.json"
  "$RLSR" bench generate --shape "$SHAPE" --backends onnx_kv --batch 16 --prompt-len 64 --new-tokens 64 --repeats 2 \
    --sync-repeats 2 --json "$OUT/generate-$SHAPE.json"
  "$RLSR" bench train --shape "$SHAPE" --micro-batch-size 4 --iterations 2 --warmup 1 --json "$OUT/train-$SHAPE.json"
fi
uptime | tee -a "$OUT/load.txt"
echo "results in $OUT"
