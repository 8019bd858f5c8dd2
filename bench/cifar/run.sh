#!/usr/bin/env bash
# Side by side on this machine: Caffe's cifar10_quick and cifar10_full examples (the prototxt files in this folder,
# written out from Caffe's) trained by Backprop (Backprop.Bench's caffe-train case: the CaffeSolver, step by step)
# and by the same training written out in PyTorch (pytorch_cifar.py), on a generated CIFAR-shaped set
# (`backprop synthesize-cifar`: 50,000 + 10,000 images of 10 classes of coloured shapes; no CIFAR-10 download here).
# Prints ms per training iteration (median and mean), test accuracy over the 10,000 test images, the test pass's
# time per batch of 100 (inference), peak memory, and Backprop/PyTorch ratios.
#   bash bench/cifar/run.sh [--nets "quick full"] [--iterations N] [--rounds R] [--threads T] [--data DIR] [--seed S]
# --seed S: round r starts both sides from seed S + r - 1 (Backprop: the solver's random_seed; PyTorch: torch.manual_seed),
# so rounds compare accuracy over several initialisations; without it every round uses each side's default seed.
# Defaults: 500 iterations for quick, 200 for full (--iterations sets both), 1 round, 2 threads, DATA=/tmp/backprop-cifar.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
NETS="quick full"
ITERATIONS=
ROUNDS=1
THREADS=2
SEED=
DATA=${DATA:-/tmp/backprop-cifar}
while [ $# -gt 0 ]; do
  case "$1" in
    --nets) NETS=$2; shift 2 ;;
    --iterations) ITERATIONS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    *) echo "usage: $0 [--nets \"quick full\"] [--iterations N] [--rounds R] [--threads T] [--data DIR] [--seed S]" >&2; exit 2 ;;
  esac
done
DATA=$(realpath -m "$DATA")

PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's python3, which python3-torch installs into
source bench/need_apt.sh
need_apt "$PYTHON -c 'import torch, numpy, threadpoolctl'" python3-torch python3-numpy python3-threadpoolctl
# Debian's torch runs its fully connected layers through the system BLAS: make that OpenBLAS, not the reference BLAS.
need_apt "readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas" libopenblas0-pthread
TIME=/usr/bin/time; [ -x "$TIME" ] || need_apt "false" time

dotnet build src/Backprop.Cli -c Release -v quiet -nologo >/dev/null
dotnet build bench/Backprop.Bench -c Release -v quiet -nologo >/dev/null
if [ ! -f "$DATA/cifar10_train_lmdb/data.mdb" ] || [ ! -f "$DATA/test_labels.u8" ]; then
  echo "== Writing the generated CIFAR-shaped set to $DATA"
  dotnet src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll synthesize-cifar --output "$DATA" --force
fi

# The peer's BLAS at its best (bench/peer_env.sh: the machine's OpenBLAS variables unset for the peer only; prints
# the kernel family); intra-op threads from --threads, its BLAS on one thread (as in bench/lenet).
source bench/peer_env.sh && peer_env_setup
PEER=("${PEER_ENV[@]}" OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PYTHON")
source bench/results.sh
source bench/cifar/solver_copy.sh

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)
for net in $NETS; do
  iterations=${ITERATIONS:-$([ "$net" = quick ] && echo 500 || echo 200)}
  cifar_solver_copy "$net" "$DATA" "$WORK" "$iterations"   # the bench's copies of Caffe's files (solver_copy.sh)
  for r in $(seq 1 "$ROUNDS"); do
    solver="$WORK/${net}_solver.prototxt" peer_seed=()
    if [ -n "$SEED" ]; then
      seed=$((SEED + r - 1))
      solver="$WORK/${net}_solver_seed$seed.prototxt"
      { grep -v '^random_seed:' "$WORK/${net}_solver.prototxt"; echo "random_seed: $seed"; } > "$solver"
      peer_seed=(--seed "$seed")
    fi
    echo "== cifar10_$net, round $r of $ROUNDS: Backprop, then PyTorch; $iterations iterations of batch 100, $THREADS threads${SEED:+, seed $seed}"
    BACKPROP_NUM_THREADS=$THREADS measured "$WORK/bp_$net" \
      dotnet "$ROOT/bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll" caffe-train "$solver" "$iterations"
    measured "$WORK/pt_$net" "${PEER[@]}" bench/cifar/pytorch_cifar.py "$net" --data "$DATA" --iterations "$iterations" --threads "$THREADS" "${peer_seed[@]}"
  done
done

echo
echo "cifar10_quick / cifar10_full on $DATA; medians over $ROUNDS round(s); $THREADS threads; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "iter ms: one training iteration (the batch, forward, backward, update), median over the run's iterations; accuracy:"
echo "the 10,000 test images after training; test ms: the test pass's time per batch of 100 (inference, no autograd);"
echo "peak MB: the process's peak resident memory (GNU time). ratio: Backprop / PyTorch (below 1: Backprop better)."
printf '%-6s %-9s %10s %10s %10s %10s\n' net framework "iter ms" accuracy "test ms" "peak MB"
for net in $NETS; do
  declare -A m=()
  for side in bp pt; do
    for key in ms_per_iter_median test_accuracy test_ms_per_batch peak_rss_mb; do
      m[$side.$key]=$(while read -r l; do value "$key" "$l"; done < "$WORK/${side}_$net" | median)
    done
  done
  printf '%-6s %-9s %10s %10s %10s %10s\n' "$net" Backprop "${m[bp.ms_per_iter_median]}" "${m[bp.test_accuracy]}" "${m[bp.test_ms_per_batch]}" "${m[bp.peak_rss_mb]}"
  printf '%-6s %-9s %10s %10s %10s %10s\n' "" PyTorch "${m[pt.ms_per_iter_median]}" "${m[pt.test_accuracy]}" "${m[pt.test_ms_per_batch]}" "${m[pt.peak_rss_mb]}"
  printf '%-6s %-9s %10s %10s %10s %10s\n' "" ratio "$(ratio "${m[bp.ms_per_iter_median]}" "${m[pt.ms_per_iter_median]}")" "" \
    "$(ratio "${m[bp.test_ms_per_batch]}" "${m[pt.test_ms_per_batch]}")" "$(ratio "${m[bp.peak_rss_mb]}" "${m[pt.peak_rss_mb]}")"
  unset m
done
"${PEER[@]}" bench/blas_family.py
"${PEER[@]}" -c 'import torch; print("peer: PyTorch", torch.__version__, "|", next((l.strip() for l in torch.__config__.show().splitlines() if "CPU capability" in l), "CPU capability unknown"))'
echo "load average (1 min) before the runs: $load_before, after: $(cut -d' ' -f1 /proc/loadavg)"
awk -v l="$load_before" 'BEGIN { if (l >= 0.5) print "WARNING: the machine was busy; these times are not a benchmark." }'
