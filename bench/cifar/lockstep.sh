#!/usr/bin/env bash
# Checks that bench/cifar/run.sh trains cifar10_quick by one recipe on both sides: Backprop's CaffeSolver draws the
# initial weights (random_seed SEED), writes them, and trains STEPS steps (Backprop.Bench cifar-lockstep); PyTorch loads
# the same weights and trains the same steps on the same batches by pytorch_cifar.py's recipe (cifar_lockstep.py), in
# float32 and in float64. Prints the losses side by side, the blob norms' worst relative difference, and after step 1
# each side's distance from the float64 step. 1 thread on both sides.
#   bash bench/cifar/lockstep.sh [STEPS] [SEED] [--data DIR]   (default 100 1 /tmp/backprop-cifar)
# KEEP=DIR keeps the weights, gradients and outputs in DIR (else a temporary folder, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-100} SEED=${2:-1} DATA=/tmp/backprop-cifar
[ "${3:-}" = --data ] && DATA=$4
DATA=$(realpath -m "$DATA")
PYTHON=${PYTHON:-/usr/bin/python3}
dotnet build bench/Backprop.Bench -c Release -v quiet -nologo >/dev/null
if [ ! -f "$DATA/cifar10_train_lmdb/data.mdb" ] || [ ! -f "$DATA/train_labels.u8" ]; then
  dotnet build src/Backprop.Cli -c Release -v quiet -nologo >/dev/null
  dotnet src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll synthesize-cifar --output "$DATA" --force
fi
source bench/cifar/solver_copy.sh
# The peer without the machine's OpenBLAS variables, as in run.sh (bench/peer_env.sh; prints its BLAS kernels).
source bench/peer_env.sh && peer_env_setup
PEER=("${PEER_ENV[@]}" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PYTHON")
WORK=${KEEP:-$(mktemp -d)}; [ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT; mkdir -p "$WORK"
cifar_solver_copy quick "$DATA" "$WORK" "$STEPS"
echo "random_seed: $SEED" >> "$WORK/quick_solver.prototxt"
BACKPROP_NUM_THREADS=1 dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll cifar-lockstep "$WORK/quick_solver.prototxt" "$WORK" "$STEPS" > "$WORK/backprop"
"${PEER[@]}" bench/cifar/cifar_lockstep.py "$WORK" --data "$DATA" --steps "$STEPS" --threads 1 > "$WORK/pytorch"
"${PEER[@]}" bench/cifar/cifar_lockstep.py "$WORK" --data "$DATA" --compare "$WORK/backprop" "$WORK/pytorch"
"${PEER[@]}" bench/cifar/cifar_lockstep.py "$WORK" --data "$DATA" --gradients   # every 50th step: gradient and update alone
grep -h '^RESULT' "$WORK/backprop" "$WORK/pytorch"
echo "load average (1 min) after: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
