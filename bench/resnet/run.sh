#!/usr/bin/env bash
# Side by side on this machine: ResNet-20 (32x32, batch 128) and a VGG-style stack of 3x3 convs with BatchNorm
# (64x64, batch 32), built with Backprop's core API (bench/Backprop.Bench/ConvNets.cs) and with PyTorch
# (pytorch_convnets.py): ms per training iteration (SGD momentum, random data), inference images/s at batch 64 and
# latency at batch 1. Rounds alternate the two frameworks; each figure is the median over rounds of per-round medians.
#   bash bench/resnet/run.sh [--nets "resnet20 vgg"] [--iterations N] [--warmup W] [--rounds R] [--threads T] [--avx2]
# (--avx2: both sides on their AVX2 code, see bench/peer_env.sh). Both sides run W untimed training steps first
# (15 unless given): .NET's tiered JIT replaces the first code of the kernels with its optimized code over the first
# ~15 steps (steady state: what a training run of thousands of steps sees); --warmup 2 shows the cold start. Inference
# gets as many untimed calls first, and at least 2 s of them, both sides (the eval path's own code is new there: a
# ResNet-20 batch of 64 took 14.0-14.5 ms over the 20 calls after 15 untimed ones, 9.2-9.5 ms after 2 s of calls).
set -euo pipefail
cd "$(dirname "$0")/../.."
NETS="resnet20 vgg"
ITERATIONS=20
WARMUP=15
ROUNDS=3
THREADS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --nets) NETS=$2; shift 2 ;;
    --iterations) ITERATIONS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --avx2) AVX2=1; shift ;;
    *) echo "usage: $0 [--nets \"resnet20 vgg\"] [--iterations N] [--warmup W] [--rounds R] [--threads T] [--avx2]" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's python3, which python3-torch installs into
source bench/need_apt.sh
need_apt "$PYTHON -c 'import torch, numpy, threadpoolctl'" python3-torch python3-numpy python3-threadpoolctl
need_apt "readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 | grep -q openblas" libopenblas0-pthread
TIME=/usr/bin/time; [ -x "$TIME" ] || need_apt "false" time

dotnet build bench/Backprop.Bench -c Release -v quiet -nologo >/dev/null
# The peer's BLAS at its best (bench/peer_env.sh: the machine's OpenBLAS variables unset for the peer only; prints
# the kernel family); intra-op threads from --threads, its BLAS on one thread (as in bench/lenet).
source bench/peer_env.sh && peer_env_setup
PEER=("${PEER_ENV[@]}" OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$PYTHON")
source bench/results.sh

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)
for net in $NETS; do
  for r in $(seq 1 "$ROUNDS"); do
    echo "== $net, round $r of $ROUNDS: Backprop, then PyTorch; $WARMUP warm-up and $ITERATIONS timed training iterations, $THREADS threads"
    measured "$WORK/bp_$net" "${BP_ENV[@]}" BACKPROP_NUM_THREADS="$THREADS" \
      dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll convnet "$net" "$ITERATIONS" 20 "$WARMUP"
    measured "$WORK/pt_$net" "${PEER[@]}" bench/resnet/pytorch_convnets.py "$net" --iterations "$ITERATIONS" --warmup "$WARMUP" --threads "$THREADS"
  done
done

echo
echo "Medians over $ROUNDS rounds (each round's figure a median itself); $THREADS threads; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "train ms: one training iteration (forward, backward, SGD update) on random data, after $WARMUP warm-up iterations; infer64: eval forward of 64 images"
echo "(no autograd), as images/s; infer1 ms: one image; train MB: the process's peak resident memory"
echo "when training ended (before inference); peak MB: over the whole run (GNU time)."
echo "ratio: Backprop / PyTorch for times and memory (below 1: Backprop better), Backprop / PyTorch for images/s (above 1: better)."
printf '%-9s %-9s %10s %12s %10s %10s %10s\n' net framework "train ms" "infer64 im/s" "infer1 ms" "train MB" "peak MB"
for net in $NETS; do
  declare -A m=()
  for side in bp pt; do
    for key in train_ms_median infer64_images_per_s infer1_ms train_peak_mb peak_rss_mb; do
      m[$side.$key]=$(while read -r l; do value "$key" "$l"; done < "$WORK/${side}_$net" | median)
    done
  done
  printf '%-9s %-9s %10s %12s %10s %10s %10s\n' "$net" Backprop "${m[bp.train_ms_median]}" "${m[bp.infer64_images_per_s]}" "${m[bp.infer1_ms]}" "${m[bp.train_peak_mb]}" "${m[bp.peak_rss_mb]}"
  printf '%-9s %-9s %10s %12s %10s %10s %10s\n' "" PyTorch "${m[pt.train_ms_median]}" "${m[pt.infer64_images_per_s]}" "${m[pt.infer1_ms]}" "${m[pt.train_peak_mb]}" "${m[pt.peak_rss_mb]}"
  printf '%-9s %-9s %10s %12s %10s %10s %10s\n' "" ratio "$(ratio "${m[bp.train_ms_median]}" "${m[pt.train_ms_median]}")" \
    "$(ratio "${m[bp.infer64_images_per_s]}" "${m[pt.infer64_images_per_s]}")" "$(ratio "${m[bp.infer1_ms]}" "${m[pt.infer1_ms]}")" \
    "$(ratio "${m[bp.train_peak_mb]}" "${m[pt.train_peak_mb]}")" "$(ratio "${m[bp.peak_rss_mb]}" "${m[pt.peak_rss_mb]}")"
  unset m
done
"${PEER[@]}" bench/blas_family.py
"${PEER[@]}" -c 'import torch; print("peer: PyTorch", torch.__version__, "|", next((l.strip() for l in torch.__config__.show().splitlines() if "CPU capability" in l), "CPU capability unknown"))'
echo "load average (1 min) before the runs: $load_before, after: $(cut -d' ' -f1 /proc/loadavg)"
awk -v l="$load_before" 'BEGIN { if (l >= 0.5) print "WARNING: the machine was busy; these times are not a benchmark." }'
