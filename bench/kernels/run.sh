#!/usr/bin/env bash
# Side by side on this machine, in one run: Backprop's SGEMM against numpy's OpenBLAS on 1 thread (and
# Backprop on 2), and Backprop's convolution forward+backward against PyTorch on 2 threads (its BLAS on 1).
# Each figure is a median of REPEATS timings after a warm-up; the ratio is peer time / Backprop time
# (above 1: Backprop is faster).   bash bench/kernels/run.sh [REPEATS] [ROUNDS]   (default 11 3)
# With "inference" first instead, only LeNet inference (forward, no autograd; batch 64 and 1000), Backprop against
# PyTorch, both on 2 threads, as images/s and Backprop/PyTorch:   bash bench/kernels/run.sh inference [REPEATS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
INFERENCE=; if [ "${1:-}" = inference ]; then INFERENCE=inference; shift; fi
REPEATS=${1:-11}
ROUNDS=${2:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
"$PYTHON" -c 'import torch, numpy, threadpoolctl' || { echo "Install first: apt-get install python3-torch python3-numpy python3-threadpoolctl libopenblas0-pthread" >&2; exit 1; }
source bench/peer_env.sh && peer_env_setup
dotnet build bench/Backprop.Bench -c Release -v quiet -nologo >/dev/null
BENCH="dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll quick $REPEATS"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)
median() {  # median over rounds of each case: lines "name<TAB>ms" -> one line per name
  sort -t $'\t' -k1,1 -k2,2g "$1" | awk -F'\t' '{ v[$1] = v[$1] " " $2; n[$1]++ }
    END { for (k in v) { split(substr(v[k], 2), a, " "); printf "%s\t%s\n", k, a[int((n[k] + 1) / 2)] } }' | sort -t $'\t' -k1,1
}

if [ -n "$INFERENCE" ]; then
  for r in $(seq 1 "$ROUNDS"); do
    BACKPROP_NUM_THREADS=2 $BENCH inference >> "$WORK/bp2"
    "${PEER_ENV[@]}" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2 MKL_NUM_THREADS=1 "$PYTHON" bench/kernels/peer.py "$REPEATS" inference 2 >> "$WORK/peer"
  done
  echo "LeNet inference (forward, no autograd), 2 threads each; images/s from the median ms; ratio = Backprop / PyTorch"
  printf '%-24s %10s %10s %12s %12s %7s\n' case "BP ms" "torch ms" "BP img/s" "torch img/s" ratio
  join -t $'\t' <(median "$WORK/bp2") <(median "$WORK/peer") |
    awk -F'\t' '{ b = $1; sub(/.*b/, "", b); printf "%-24s %10.3f %10.3f %12.0f %12.0f %7.2f\n", $1, $2, $3, b * 1000 / $2, b * 1000 / $3, $3 / $2 }'
  echo "peer: PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') under torch.no_grad(), torch.set_num_threads(2), OPENBLAS_NUM_THREADS=1."
  echo "load average (1 min) before: $load_before, after: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
  exit 0
fi

# Rounds alternate Backprop and the peers, so load from elsewhere falls on both; each figure is the median
# over rounds of the per-round medians.
for r in $(seq 1 "$ROUNDS"); do
  BACKPROP_NUM_THREADS=1 $BENCH >> "$WORK/bp1"
  "${PEER_ENV[@]}" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$PYTHON" bench/kernels/peer.py "$REPEATS" gemm >> "$WORK/peer"
  BACKPROP_NUM_THREADS=2 $BENCH >> "$WORK/bp2"
  "${PEER_ENV[@]}" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2 MKL_NUM_THREADS=1 "$PYTHON" bench/kernels/peer.py "$REPEATS" conv 2 >> "$WORK/peer"
done
echo "median ms; ratio = peer / Backprop (>= 1: Backprop as fast or faster)"
printf '%-36s %10s %10s %10s %9s %9s\n' case "BP 1 thr" "BP 2 thr" peer "ratio 1t" "ratio 2t"
join -t $'\t' <(median "$WORK/bp1") <(median "$WORK/bp2") | join -t $'\t' - <(median "$WORK/peer") |
  awk -F'\t' '{ peer = ($1 ~ /^conv/) ? "torch 2t" : "numpy 1t";
               printf "%-36s %10.3f %10.3f %10.3f %9.2f %9.2f  (%s)\n", $1, $2, $3, $4, $4 / $2, $4 / $3, peer }'
echo "GEMM: peer is numpy/OpenBLAS on 1 thread; conv: peer is PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') on 2 threads (fwd + bwd-data + bwd-weights)."
echo "load average (1 min) before: $load_before, after: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
echo
echo "GEMM again, both sides in one process (OpenBLAS's cblas_sgemm loaded by the bench, 1 thread each; rounds alternate"
echo "which side goes first, each round ~40 ms of calls per side): the comparison that holds on a busy machine."
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 || true)
if [[ "$blas" == *openblas* ]]; then
  "${PEER_ENV[@]}" BACKPROP_NUM_THREADS=1 dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll gemm-peer "$blas" $((ROUNDS * 5))
else
  echo "skipped: the system BLAS ($blas) is not OpenBLAS (apt-get install libopenblas0-pthread)"
fi
echo "load average (1 min) after: $(cut -d' ' -f1 /proc/loadavg)"
