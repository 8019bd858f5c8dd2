#!/usr/bin/env bash
# Side by side on this machine: Caffe's LeNet MNIST example trained by Backprop (`backprop train` on the
# example's own prototxt files) and by the same training written out in PyTorch (pytorch_lenet.py).
# Test passes are left out of both training times; each side is then scored on the 10,000 test images.
#   bash bench/lenet/run.sh [--iterations N] [--threads T] [--avx2]   (T: threads for both; default 2;
#   --avx2: both sides on their AVX2 code, see bench/peer_env.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ITERATIONS=10000
THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) ITERATIONS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --avx2) AVX2=1; shift ;;
    *) echo "usage: $0 [--iterations N] [--threads T] [--avx2]" >&2; exit 2 ;;
  esac
done

source bench/need_apt.sh
PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's python3, which python3-torch installs into
need_apt "$PYTHON -c 'import torch, numpy'" python3-torch python3-numpy
need_apt "$PYTHON -c 'import threadpoolctl'" python3-threadpoolctl
# Debian's torch calls the system BLAS (libblas.so.3) for its matrix products (the fully connected layers):
# make that OpenBLAS rather than the slow reference BLAS.
need_apt "readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas" libopenblas0-pthread

dotnet build src/Backprop.Cli -c Release -v quiet -nologo
source bench/peer_env.sh && peer_env_setup   # PEER_ENV and BP_ENV
backprop() { dotnet "$ROOT/src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll" "$@"; }
backprop convert-mnist --output examples/mnist  # fetches MNIST into the cache and writes the LMDBs when absent

# Other work on the machine skews both sides, PyTorch's OpenMP threads worst (a 2-thread run can be several
# times slower than a 1-thread one under load): the load average goes in the summary.
load_before=$(cut -d' ' -f1 /proc/loadavg)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# The example's solver with no test passes, no snapshot midway (one at the end), and absolute paths.
sed -e "s|^net:.*|net: \"$ROOT/examples/mnist/lenet_train_test.prototxt\"|" \
    -e "s|^test_interval:.*|test_interval: 0|" \
    -e "s|^max_iter:.*|max_iter: $ITERATIONS|" \
    -e "s|^snapshot:.*|snapshot: 0|" \
    -e "s|^snapshot_prefix:.*|snapshot_prefix: \"$WORK/lenet\"|" \
    examples/mnist/lenet_solver.prototxt > "$WORK/solver.prototxt"

echo "== Backprop: $ITERATIONS iterations, $THREADS threads"
start=$(date +%s.%N)
# Peak memory (resident set) of each training process, from GNU time.
TIME=/usr/bin/time; [ -x "$TIME" ] || need_apt "false" time
"${BP_ENV[@]}" BACKPROP_NUM_THREADS=$THREADS "$TIME" -f %M -o "$WORK/backprop_rss" dotnet "$ROOT/src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll" \
  train --solver "$WORK/solver.prototxt" > "$WORK/backprop_train.log" 2>&1 || { cat "$WORK/backprop_train.log"; exit 1; }
end=$(date +%s.%N)
grep -E '^Trained ' "$WORK/backprop_train.log"
bp_wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
# The iterations alone, as pytorch_lenet.py times its own; the whole command (nets built, final snapshot) is on the line above.
bp_train=$(sed -nE 's/^Trained .* \(([0-9.]+) s in the iterations themselves\)\./\1/p' "$WORK/backprop_train.log")
backprop test --model "$ROOT/examples/mnist/lenet_train_test.prototxt" \
  --weights "$WORK/lenet_iter_$ITERATIONS.caffemodel" --iterations 100 > "$WORK/backprop_test.log"
bp_acc=$(sed -nE 's/^accuracy = ([0-9.eE+-]+).*/\1/p' "$WORK/backprop_test.log")
echo "backprop train_seconds=$bp_train wall_seconds=$bp_wall test_accuracy=$bp_acc"

echo "== PyTorch $($PYTHON -c 'import torch; print(torch.__version__)'): $ITERATIONS iterations, $THREADS threads, BLAS $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
"${PEER_ENV[@]}" OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$TIME" -f %M -o "$WORK/pytorch_rss" \
  "$PYTHON" bench/lenet/pytorch_lenet.py --iterations "$ITERATIONS" --threads "$THREADS" | tee "$WORK/pytorch.log"
pt_train=$(sed -nE 's/^pytorch train_seconds=([0-9.]+).*/\1/p' "$WORK/pytorch.log")
pt_wall=$(sed -nE 's/^pytorch .*wall_seconds=([0-9.]+).*/\1/p' "$WORK/pytorch.log")
pt_acc=$(sed -nE 's/^pytorch .*test_accuracy=([0-9.]+).*/\1/p' "$WORK/pytorch.log")

echo
echo "LeNet on MNIST, $ITERATIONS iterations of batch 64, $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "train s: the training iterations (data, forward, backward, update), summed; no test passes, no net or model"
echo "set-up, no snapshot (Backprop: the solver's own step time, JIT included; PyTorch: its loop's). wall s: from process"
echo "start to the end of training (Backprop: the train command, .NET startup, net build and final snapshot included;"
echo "PyTorch: imports, reading the IDX files, init, training)."
echo "peak MB: the training process's peak resident memory (GNU time's maximum RSS)."
bp_mb=$(awk '{ printf "%.0f", $1 / 1024 }' "$WORK/backprop_rss")
pt_mb=$(awk '{ printf "%.0f", $1 / 1024 }' "$WORK/pytorch_rss")
printf '%-10s %10s %10s %10s %10s\n' framework "train s" "wall s" accuracy "peak MB"
printf '%-10s %10.2f %10.2f %10.4f %10s\n' Backprop "$bp_train" "$bp_wall" "$bp_acc" "$bp_mb"
printf '%-10s %10.2f %10.2f %10.4f %10s\n' PyTorch "$pt_train" "$pt_wall" "$pt_acc" "$pt_mb"
awk -v bt="$bp_train" -v pt="$pt_train" -v bw="$bp_wall" -v pw="$pt_wall" -v bm="$bp_mb" -v pm="$pt_mb" \
  'BEGIN { printf "%-10s %10.2f %10.2f %10s %10.2f\n", "ratio B/P", bt / pt, bw / pw, "", bm / pm }'
echo "load average (1 min) before the runs: $load_before, after: $(cut -d' ' -f1 /proc/loadavg)"
awk -v l="$load_before" 'BEGIN { if (l >= 0.5) print "WARNING: the machine was busy; these times are not a benchmark." }'
