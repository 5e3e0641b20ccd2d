#!/usr/bin/env bash
# The paper's three recipes on your own model and data: SFT, RLSR and SFT+RLSR, each evaluated on held-out
# prompts, with win rates against the base model and against SFT.
#   scripts/three-recipes.sh MODEL_DIR TRAIN.jsonl EVAL.jsonl OUT_DIR
# Extra flags per stage: SFT_ARGS, RL_ARGS, EVAL_ARGS (e.g. RL_ARGS="--iterations 200 --lr 1e-6").
set -euo pipefail
if [[ $# -ne 4 ]]; then
  echo "usage: $0 MODEL_DIR TRAIN.jsonl EVAL.jsonl OUT_DIR" >&2
  exit 2
fi
MODEL=$1 TRAIN=$2 EVAL=$3 OUT=$4
RLSR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/rlsr"
mkdir -p "$OUT/eval"

"$RLSR" sft   --model "$MODEL"     --data "$TRAIN" --out "$OUT/sft"      ${SFT_ARGS:-}
"$RLSR" train --model "$MODEL"     --data "$TRAIN" --out "$OUT/rlsr"     ${RL_ARGS:-}
"$RLSR" train --model "$OUT/sft"   --data "$TRAIN" --out "$OUT/sft-rlsr" ${RL_ARGS:-}

declare -A DIRS=([base]="$MODEL" [sft]="$OUT/sft" [rlsr]="$OUT/rlsr" [sft-rlsr]="$OUT/sft-rlsr")
for name in base sft rlsr sft-rlsr; do
  echo "== eval $name"
  "$RLSR" eval --model "${DIRS[$name]}" --data "$EVAL" --out "$OUT/eval/$name.jsonl" ${EVAL_ARGS:-}
done
for name in sft rlsr sft-rlsr; do
  echo "== $name vs base: $("$RLSR" compare "$OUT/eval/$name.jsonl" "$OUT/eval/base.jsonl")"
done
for name in rlsr sft-rlsr; do
  echo "== $name vs sft:  $("$RLSR" compare "$OUT/eval/$name.jsonl" "$OUT/eval/sft.jsonl")"
done
