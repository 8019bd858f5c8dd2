#!/usr/bin/env bash
# ResNet-20 on Fashion-MNIST, Backprop (Backprop.Bench's fashion-resnet case) against PyTorch (fashion_resnet.py), the
# same recipe on both sides: test accuracy after training, and the training time. Each round runs one seed on both
# sides, Backprop first (the same seed does not give the same initial weights on the two sides: each framework has its
# own generator). --seeds takes a comma-separated list; --rounds R --seed S means the seeds S .. S+R-1. With more than
# one round, a summary prints each side's accuracies, mean, sample standard deviation and range.
#   bash bench/resnet/accuracy.sh [--epochs E] [--seeds 1,2,3 | --rounds R --seed S] [--threads T]   (defaults 2, seed 1, 2 threads)
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS=2 ROUNDS=1 SEED=1 THREADS=2 SEEDS=
usage() { echo "usage: $0 [--epochs E] [--seeds S1,S2,... | --rounds R --seed S] [--threads T]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --epochs) EPOCHS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    *) usage ;;
  esac
done
if [ -z "$SEEDS" ]; then SEEDS=$(seq -s, "$SEED" $((SEED + ROUNDS - 1))); fi
[[ "$SEEDS" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "--seeds wants comma-separated non-negative integers, got '$SEEDS'" >&2; exit 2; }
IFS=, read -r -a SEED_LIST <<< "$SEEDS"
PYTHON=${PYTHON:-/usr/bin/python3}
source bench/need_apt.sh
need_apt "$PYTHON -c 'import torch, numpy, threadpoolctl'" python3-torch python3-numpy python3-threadpoolctl
need_apt "test -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz" dataset-fashion-mnist
dotnet build bench/Backprop.Bench -c Release -v quiet -nologo >/dev/null
source bench/peer_env.sh && peer_env_setup
echo "load average (1 min) before: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
RESULTS=$(mktemp); trap 'rm -f "$RESULTS"' EXIT
r=0
for seed in "${SEED_LIST[@]}"; do
  r=$((r + 1))
  echo "== round $r of ${#SEED_LIST[@]}, seed $seed: Backprop, then PyTorch; $EPOCHS epochs, $THREADS threads; load $(cut -d' ' -f1 /proc/loadavg)"
  "${BP_ENV[@]}" BACKPROP_NUM_THREADS="$THREADS" dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll fashion-resnet "$EPOCHS" "$seed" |
    tee -a "$RESULTS"
  (cd bench/resnet && "${PEER_ENV[@]}" OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PYTHON" fashion_resnet.py \
    --epochs "$EPOCHS" --seed "$seed" --threads "$THREADS") | tee -a "$RESULTS"
done
if [ "$r" -gt 1 ]; then
  # test accuracy in percent per side: the list, mean, sample standard deviation, range; then the gap of the means
  awk '/^RESULT/ { side = $2; for (i = 3; i <= NF; i++) if ($i ~ /^test_accuracy=/) { split($i, kv, "="); a = 100 * kv[2] }
                   n[side]++; s[side] += a; q[side] += a * a; list[side] = list[side] sprintf(" %.2f", a)
                   if (!(side in lo) || a < lo[side]) lo[side] = a; if (!(side in hi) || a > hi[side]) hi[side] = a }
       END { for (side in n) { m[side] = s[side] / n[side]; v = n[side] > 1 ? (q[side] - n[side] * m[side] ^ 2) / (n[side] - 1) : 0
                               printf "%-8s accuracy %%:%s  mean %.2f  sd %.2f  range %.2f\n", side, list[side], m[side], sqrt(v > 0 ? v : 0), hi[side] - lo[side] }
             if (("backprop" in m) && ("pytorch" in m)) printf "mean gap (Backprop - PyTorch): %+.2f points\n", m["backprop"] - m["pytorch"] }' "$RESULTS"
fi
echo "load average (1 min) after: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
