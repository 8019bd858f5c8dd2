#!/usr/bin/env bash
# Faster R-CNN side by side on this machine, one after the other on the same VOC-format data and settings:
# `backprop detect train/eval` against torchvision 0.14's FasterRCNN (bench/detection/torchvision_frcnn.py).
#   bash bench/detection/run.sh [--data DIR] [--epochs N] [--threads T]       train both, score both, compare
#   bash bench/detection/run.sh vgg [--threads T] [--repeats R]               VGG16 forward+backward of one image
# Defaults (also from the environment): DATA=/tmp/backprop-synth EPOCHS=12 THREADS=2 REPEATS=5.
# The rest (batch 4, lr 0.02, warm-up, seed 1, 224x224, backbone "small") are the defaults of both sides.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=train; if [ "${1:-}" = vgg ]; then MODE=vgg; shift; fi
DATA=${DATA:-/tmp/backprop-synth}
EPOCHS=${EPOCHS:-12}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-5}
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    *) echo "usage: $0 [vgg] [--data DIR] [--epochs N] [--threads T] [--repeats R]" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's python3, which python3-torch / python3-torchvision install into
source bench/need_apt.sh
need_apt "$PYTHON -c 'import torch, torchvision, numpy, PIL'" python3-torch python3-torchvision python3-numpy python3-pil
# Debian's torch runs its fully connected layers (the 1024-wide RoI head) through the system BLAS: make that
# OpenBLAS, not the reference BLAS, which is many times slower.
need_apt "readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas" libopenblas0-pthread

need_apt "$PYTHON -c 'import threadpoolctl'" python3-threadpoolctl

# The peer's BLAS at its best (bench/peer_env.sh); its intra-op and BLAS threads both come from --threads.
source bench/peer_env.sh && peer_env_setup
peer() { "${PEER_ENV[@]}" OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" \
  MKL_NUM_THREADS="$THREADS" "$PYTHON" bench/detection/torchvision_frcnn.py --threads "$THREADS" "$@"; }
value() {  # value KEY LINE: the value of KEY=value in a RESULT line, or "-"
  local v; v=$(tr ' ' '\n' <<< "$2" | sed -n "s/^$1=//p" | head -1); echo "${v:--}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.3f", a / b }'; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)
machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"

if [ "$MODE" = vgg ]; then
  echo "== Backprop: VGG16 Faster R-CNN forward+backward, one 224x224 image, $THREADS threads"
  BACKPROP_NUM_THREADS=$THREADS dotnet run --project bench/Backprop.Bench -c Release -- detection-vgg \
    | tee "$WORK/bp_vgg.log"
  echo "== torchvision: the same"
  peer --vgg-timing --repeats "$REPEATS" | tee "$WORK/tv_vgg.log"
  bp=$(grep -m1 '^RESULT backprop' "$WORK/bp_vgg.log" || true)
  tv=$(grep -m1 '^RESULT torchvision' "$WORK/tv_vgg.log" || true)
  bp_s=$(value vgg16_fwd_bwd_seconds "$bp"); tv_s=$(value vgg16_fwd_bwd_seconds "$tv")
  echo
  echo "VGG16 Faster R-CNN, forward+backward of one 224x224 image with 2 boxes, median; $THREADS threads; $machine"
  printf '%-28s %12s %12s %10s\n' "" Backprop torchvision "B/T"
  printf '%-28s %12s %12s %10s\n' "fwd+bwd seconds" "$bp_s" "$tv_s" "$(ratio "$bp_s" "$tv_s")"
  echo "load average before/after: $load_before / $(cut -d' ' -f1 /proc/loadavg)"
  exit 0
fi

# (a) The data: a synthetic VOC-format set, written once.
if [ ! -d "$DATA" ]; then
  echo "== Writing synthetic VOC data to $DATA"
  dotnet run --project src/Backprop.Cli -c Release -- detect synthesize --output "$DATA" --train 600 --test 200 --seed 1
fi

# (b) Backprop: train, then score the saved weights.
echo "== Backprop: $EPOCHS epochs, $THREADS threads"
BACKPROP_NUM_THREADS=$THREADS dotnet run --project src/Backprop.Cli -c Release -- detect train --data "$DATA" \
  --backbone small --epochs "$EPOCHS" --eval-every 2 --output /tmp/bp-det.safetensors | tee "$WORK/bp_train.log"
BACKPROP_NUM_THREADS=$THREADS dotnet run --project src/Backprop.Cli -c Release -- detect eval --data "$DATA" \
  --weights /tmp/bp-det.safetensors | tee "$WORK/bp_eval.log"

# (c) The peer.
echo "== torchvision $("$PYTHON" -c 'import torchvision; print(torchvision.__version__)'): $EPOCHS epochs, $THREADS threads, BLAS $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
peer --data "$DATA" --backbone small --epochs "$EPOCHS" | tee "$WORK/tv.log"

# (d) Side by side.
bp=$(cat "$WORK/bp_train.log" "$WORK/bp_eval.log" | grep '^RESULT backprop' | tr '\n' ' ' || true)
tv=$(grep -m1 '^RESULT torchvision' "$WORK/tv.log" || true)
[ -n "$tv" ] || { echo "no RESULT line from torchvision_frcnn.py" >&2; exit 1; }
[ -n "$bp" ] || echo "(no RESULT backprop line from detect train/eval)" >&2
if [ "$(value map50 "$bp")" = - ]; then  # eval's own summary line, when its RESULT line lacks the key
  m=$(sed -nE 's/^mAP@0\.5 = ([0-9.]+).*/\1/p' "$WORK/bp_eval.log" | tail -1); [ -z "$m" ] || bp="$bp map50=$m"
fi
echo
echo "Faster R-CNN (backbone small, 224x224, batch 4), $EPOCHS epochs on $DATA; $THREADS threads; $machine"
printf '%-22s %12s %12s\n' "" Backprop torchvision
for key in seconds_per_iter images_per_s train_seconds map50 recall300; do
  printf '%-22s %12s %12s\n' "$key" "$(value $key "$bp")" "$(value $key "$tv")"
done
echo "seconds/iteration Backprop / torchvision: $(ratio "$(value seconds_per_iter "$bp")" "$(value seconds_per_iter "$tv")") (below 1: Backprop is faster)"
echo "load average before/after: $load_before / $(cut -d' ' -f1 /proc/loadavg)"
