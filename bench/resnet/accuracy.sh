#!/usr/bin/env bash
# ResNet-20 on Fashion-MNIST, Backprop (Backprop.Bench's fashion-resnet case) against PyTorch (fashion_resnet.py), the
# same recipe on both sides: test accuracy after training, and the training time. Each round uses seed SEED + r - 1 on
# both sides (different initial weights on the two sides all the same: each framework has its own generator).
#   bash bench/resnet/accuracy.sh [--epochs E] [--rounds R] [--seed S] [--threads T]   (defaults 2, 1, 1, 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=2 ROUNDS=1 SEED=1 THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) EPOCHS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    *) echo "usage: $0 [--epochs E] [--rounds R] [--seed S] [--threads T]" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-/usr/bin/python3}
source bench/need_apt.sh
need_apt "$PYTHON -c 'import torch, numpy, threadpoolctl'" python3-torch python3-numpy python3-threadpoolctl
need_apt "test -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz" dataset-fashion-mnist
dotnet build bench/Backprop.Bench -c Release -v quiet -nologo >/dev/null
source bench/peer_env.sh && peer_env_setup
for r in $(seq 1 "$ROUNDS"); do
  seed=$((SEED + r - 1))
  echo "== round $r of $ROUNDS, seed $seed: Backprop, then PyTorch; $EPOCHS epochs, $THREADS threads"
  "${BP_ENV[@]}" BACKPROP_NUM_THREADS="$THREADS" dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll fashion-resnet "$EPOCHS" "$seed"
  (cd bench/resnet && "${PEER_ENV[@]}" OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PYTHON" fashion_resnet.py \
    --epochs "$EPOCHS" --seed "$seed" --threads "$THREADS")
done
echo "load average (1 min) after: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
