#!/usr/bin/env bash
# Inference with BatchNorm folded into the convolutions (Fusion.FuseConvBatchNorm) against the eval-mode net as trained,
# interleaved in one run: for each round and net, the old build (OLD_BENCH, e.g. a build of main; optional), this build
# unfolded (BACKPROP_BENCH_UNFOLDED=1) and this build folded. Prints each RESULT line's inference figures and the medians.
# Usage: bash bench/resnet/fold_ab.sh [rounds] [inference repeats]   (OLD_BENCH=/path/to/Backprop.Bench.dll optional)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
REPEATS=${2:-20}
NEW=bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll
export BACKPROP_NUM_THREADS=${BACKPROP_NUM_THREADS:-2}
OUT=$(mktemp)
uptime
for r in $(seq "$ROUNDS"); do
  for net in resnet20 vgg; do
    if [ -n "${OLD_BENCH:-}" ]; then
      dotnet "$OLD_BENCH" convnet "$net" 1 "$REPEATS" | grep RESULT | sed "s/^/old $net /" >> "$OUT"
    fi
    BACKPROP_BENCH_UNFOLDED=1 dotnet "$NEW" convnet "$net" 1 "$REPEATS" | grep RESULT | sed "s/^/unfolded $net /" >> "$OUT"
    dotnet "$NEW" convnet "$net" 1 "$REPEATS" | grep RESULT | sed "s/^/folded $net /" >> "$OUT"
  done
done
uptime
python3 - "$OUT" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, net = line.split()[:2]
    f = dict(re.findall(r"(\w+)=([^\s]+)", line))
    rows.setdefault((net, side), []).append((float(f["infer64_images_per_s"]), float(f["infer1_ms"]), f.get("fold_max_rel_diff", "-")))
for (net, side), v in sorted(rows.items()):
    print(f"{net:9} {side:9} n={len(v)} infer64 images/s median {statistics.median(x[0] for x in v):7.0f} "
          f"[{' '.join(f'{x[0]:.0f}' for x in v)}]  infer1 ms median {statistics.median(x[1] for x in v):6.3f} "
          f"[{' '.join(f'{x[1]:.3f}' for x in v)}]  fold diff {v[0][2]}")
PY
