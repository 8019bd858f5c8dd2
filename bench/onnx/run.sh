#!/usr/bin/env bash
# Inference side by side on this machine: Backprop against ONNX Runtime 1.32 running the same net exported by
# Backprop.Onnx (both in one process, alternating in rounds), and against PyTorch 1.13, for LeNet and ResNet-20 at
# batch 1 (latency: median and p90 ms) and batch 64 (images/s). Two threads each side: BACKPROP_NUM_THREADS=2, ONNX
# Runtime's intra-op threads 2 (ORT_ENABLE_ALL), torch.set_num_threads(2) with its BLAS on 1. Weights are random.
#   bash bench/onnx/run.sh [ROUNDS] [RUNS] [NETS]   (default 30 3 lenet,resnet20)
# RUNS alternates a Backprop+ORT process and a PyTorch process; each figure is the median over runs of each run's
# median (p90: median of the runs' p90s). "vs ORT" = Backprop time / ORT time (at most 1: target met at batch 1);
# "vs torch" = Backprop images/s / PyTorch images/s (target at batch 64: at least 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-30}
RUNS=${2:-3}
NETS=${3:-lenet,resnet20}
PYTHON=${PYTHON:-/usr/bin/python3}
"$PYTHON" -c 'import torch, threadpoolctl' || { echo "Install first: apt-get install python3-torch python3-threadpoolctl" >&2; exit 1; }
source bench/peer_env.sh && peer_env_setup
dotnet build bench/Backprop.Bench -c Release -v quiet -nologo >/dev/null
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "load average (1 min) before: $load_before on $(nproc) cores"
# The cores' state this run meets (CoreProbe): the handoff between kernel threads, and whether a row split of a plane loses.
BACKPROP_NUM_THREADS=2 dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll core-probe 5
for r in $(seq 1 "$RUNS"); do
  BACKPROP_NUM_THREADS=2 "${BP_ENV[@]}" dotnet bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll onnx-inference "$ROUNDS" "$NETS" > "$WORK/bp_$r"
  grep -E '^(backprop threads|AGREE)' "$WORK/bp_$r" | sed "s/^/run $r: /"
  "${PEER_ENV[@]}" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2 MKL_NUM_THREADS=1 "$PYTHON" bench/onnx/pytorch_inference.py "$ROUNDS" 2 "$NETS" > "$WORK/pt_$r"
  echo "run $r done, load $(cut -d' ' -f1 /proc/loadavg)"
done
cat "$WORK"/bp_* "$WORK"/pt_* | grep '^RESULT onnx' | awk '
  function val(key,   i, kv) { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) return kv[2] } }
  function median(list,   a, n, i, j, t) {
    n = split(substr(list, 2), a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)] }
  { k = val("net") SUBSEP val("batch") SUBSEP val("side"); ms[k] = ms[k] " " val("median_ms"); p90[k] = p90[k] " " val("p90_ms")
    runs[k]++; if (!(k in seen)) { seen[k] = 1; order[++count] = k } }
  END {
    printf "%-9s %5s %-16s %10s %10s %10s %8s %9s %5s\n", "net", "batch", "side", "median ms", "p90 ms", "img/s", "vs ORT", "vs torch", "runs"
    for (i = 1; i <= count; i++) { k = order[i]; m[k] = median(ms[k]); q[k] = median(p90[k]) }
    n = asort_keys()
    for (i = 1; i <= n; i++) {
      k = sorted[i]; split(k, f, SUBSEP)
      ort = m[f[1] SUBSEP f[2] SUBSEP "ort"]; pt = m[f[1] SUBSEP f[2] SUBSEP "pytorch"]
      printf "%-9s %5d %-16s %10.4f %10.4f %10.0f %8.3f %9.3f %5d\n", f[1], f[2], f[3], m[k], q[k], f[2] * 1000 / m[k],
        ort ? m[k] / ort : 0, pt ? pt / m[k] : 0, runs[k] }
  }
  function asort_keys(   i, j, t, n) {
    n = 0; for (i = 1; i <= count; i++) sorted[++n] = order[i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (sorted[j] < sorted[i]) { t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t }
    return n }'
echo "vs ORT: time / ONNX Runtime time (lower is faster); vs torch: images/s / PyTorch images/s (higher is faster)."
echo "peer: PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)') eval() under no_grad, torch.set_num_threads(2), OPENBLAS_NUM_THREADS=1."
echo "load average (1 min) before: $load_before, after: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
