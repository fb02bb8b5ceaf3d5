#!/usr/bin/env bash
# Retrains road-damage-tiny from scratch (what `npm run model:train` runs): renders the synthetic
# dataset with models/scene, trains on the CPU with fixed seeds, exports and verifies the ONNX model.
#
#   npm run model:train                                      # the shipped model (~45 min on 2 idle cores: ~10 rendering, ~35 training)
#   EPOCHS=1 COUNT=256 VAL_COUNT=64 npm run model:train      # smoke run → models/data/smoke/model.onnx
#
# Environment overrides: COUNT (training images, default 8000, seeds 1..), VAL_COUNT (1000, seeds
# 100000..), EPOCHS (12), BATCH (32), LR (0.002), THREADS (2), EVAL_EVERY (4 epochs), DATA_DIR
# (models/data, git-ignored), OUT (the .onnx; the shipped models/road-damage-tiny/model.onnx only
# when COUNT and EPOCHS are the defaults), REUSE_DATA=1 (keep a dataset already rendered with the
# same size and generator version), RESUME=1 (continue an interrupted run from its last
# checkpoint), PYTHON (/usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/../.."

DEFAULT_COUNT=8000
DEFAULT_EPOCHS=12
COUNT=${COUNT:-$DEFAULT_COUNT}
VAL_COUNT=${VAL_COUNT:-1000}
EPOCHS=${EPOCHS:-$DEFAULT_EPOCHS}
BATCH=${BATCH:-32}
LR=${LR:-0.002}
THREADS=${THREADS:-2}
EVAL_EVERY=${EVAL_EVERY:-4}
DATA_DIR=${DATA_DIR:-models/data}
PY=${PYTHON:-/usr/bin/python3}
if [[ "$COUNT" == "$DEFAULT_COUNT" && "$EPOCHS" == "$DEFAULT_EPOCHS" ]]; then
  OUT=${OUT:-models/road-damage-tiny/model.onnx}
  RUN="$DATA_DIR/runs/road-damage-tiny"
else
  OUT=${OUT:-$DATA_DIR/smoke/model.onnx}
  RUN="$DATA_DIR/runs/smoke"
fi

if ! "$PY" -c 'import torch, onnx, numpy, PIL' 2>/dev/null; then
  cat >&2 <<EOF
model:train needs PyTorch, ONNX, NumPy and Pillow for $PY (PyPI is not needed; Debian packages them):
  sudo apt-get install python3-torch python3-onnx python3-numpy python3-pil
(or set PYTHON=/path/to/a/python3 that has torch ≥ 1.13 and onnx ≥ 1.12)
EOF
  exit 1
fi

GENERATOR=$(grep -o "roadwatch-scene/[0-9]*" models/scene/dataset.ts | head -n 1)
render() { # DIR COUNT SEED_START
  if [[ "${REUSE_DATA:-0}" == 1 ]] && [[ -f "$1/dataset.json" ]] &&
    "$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(not (m["count"]==int(sys.argv[2]) and m["seedStart"]==int(sys.argv[3]) and m["generator"]==sys.argv[4]))' "$1/dataset.json" "$2" "$3" "$GENERATOR"; then
    echo "reusing $1 ($2 images from seed $3, $GENERATOR)"
    return
  fi
  rm -rf "$1"
  npm run -s model:data -- --out "$1" --count "$2" --seed-start "$3" --width 640 --height 360 --workers "$THREADS"
}

start=$(date +%s)
render "$DATA_DIR/train" "$COUNT" 1          # training seeds 1..99 999
render "$DATA_DIR/val" "$VAL_COUNT" 100000   # validation seeds 100 000..; test seeds ≥ 900 000 are never used here
rendered=$(date +%s)

[[ "${RESUME:-0}" == 1 ]] || rm -rf "$RUN"
PYTHONDONTWRITEBYTECODE=1 "$PY" models/train/train.py --train "$DATA_DIR/train" --val "$DATA_DIR/val" --out "$RUN" \
  --epochs "$EPOCHS" --batch "$BATCH" --lr "$LR" --threads "$THREADS" --seed 0 \
  --eval-every "$EVAL_EVERY"
trained=$(date +%s)

PYTHONDONTWRITEBYTECODE=1 "$PY" models/train/export.py --ckpt "$RUN/best.pt" --out "$OUT" \
  --image "$(ls "$DATA_DIR"/val/images/*.jpg | head -n 1)"
{
  echo "# road-damage-tiny training log (excerpt of $RUN/log.txt)"
  echo "# rendering $((rendered - start)) s, training $((trained - rendered)) s, $(nproc) CPU cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  head -n 1 "$RUN/log.txt"
  tail -n +2 "$RUN/log.txt" | grep -E ' val mAP|done in|finished|resumed| it ([0-9]+)/\1 ' | tail -n 40
} > "$(dirname "$OUT")/training-log.txt"
echo "done: $OUT ($(($(date +%s) - start)) s in all); log excerpt in $(dirname "$OUT")/training-log.txt"
