#!/usr/bin/env bash
# Checks that bench/resnet/accuracy.sh runs one recipe on both sides: PyTorch draws ResNet-20's initial weights and the
# batch order and trains STEPS steps (fashion_lockstep.py); Backprop loads the same weights and order and trains the
# same steps (Backprop.Bench fashion-lockstep). Prints both sides' losses step by step and the test accuracies, and
# beside them PyTorch's own losses on 1 thread, which differ from its 2-thread run by float rounding alone.
#   bash bench/resnet/lockstep.sh [STEPS] [SEED]   (default 100 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-100} SEED=${2:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
dotnet build bench/Backprop.Bench -c Release -v quiet -nologo >/dev/null
source bench/peer_env.sh && peer_env_setup
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
(cd bench/resnet && "${PEER_ENV[@]}" OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PYTHON" fashion_lockstep.py "$WORK" \
  --steps "$STEPS" --seed "$SEED") > "$WORK/pytorch"
BACKPROP_NUM_THREADS=2 dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll fashion-lockstep "$WORK" "$STEPS" > "$WORK/backprop"
echo "step  loss PyTorch  loss Backprop  relative difference  | PyTorch on 1 thread  relative difference (rounding alone)"
paste <(grep '^STEP' "$WORK/pytorch") <(grep '^STEP' "$WORK/backprop") <(grep '^REFERENCE' "$WORK/pytorch") |
  awk '{ split($4, p, "="); split($8, b, "="); split($12, r, "="); d = p[2] - b[2]; if (d < 0) d = -d; e = p[2] - r[2]; if (e < 0) e = -e
         if ($3 <= 10 || $3 % 10 == 0) printf "%4d  %12.6f  %13.6f  %19.2e  | %19.6f  %.2e\n", $3, p[2], b[2], d / p[2], r[2], e / p[2] }'
(cd bench/resnet && "$PYTHON" fashion_lockstep.py "$WORK" --compare)
grep -h '^RESULT' "$WORK/pytorch" "$WORK/backprop"
echo "load average (1 min) after: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
