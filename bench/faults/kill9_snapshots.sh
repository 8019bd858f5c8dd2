#!/usr/bin/env bash
# kill -9 during snapshotting, N times (default 50): after each kill the newest complete .caffemodel/.solverstate pair
# must resume, a model-only iteration must be refused with a message naming the newest pair, and no temporary file
# may remain after the resumed run. Not part of CI (a few minutes). Usage: bench/faults/kill9_snapshots.sh [trials] [seed]
set -u
trials=${1:-50}
RANDOM=${2:-13}
here=$(cd "$(dirname "$0")/../.." && pwd)
cli=${BACKPROP_CLI:-$here/src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll}
[ -f "$cli" ] || dotnet build "$here/src/Backprop.Cli" -c Release >/dev/null || exit 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 4M weights: each snapshot file is ~16 MB, so most of an iteration is spent writing and flushing the pair.
cat > "$work/net.prototxt" <<NET
name: "wide"
layer { name: "data" type: "DummyData" top: "data" top: "label"
  dummy_data_param { shape { dim: 8 dim: 1 dim: 64 dim: 64 } shape { dim: 8 }
                     data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 1024 weight_filler { type: "xavier" } } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
NET
solver() { # max_iter
  echo "net: \"$work/net.prototxt\" base_lr: 0.001 momentum: 0.9 lr_policy: \"fixed\" max_iter: $1 display: 1 snapshot: 1 snapshot_prefix: \"$work/snaps/wide\" random_seed: 1"
}

ok=0; failed=0; mid_snapshot=0; model_only=0
for t in $(seq 1 "$trials"); do
  rm -rf "$work/snaps"; mkdir -p "$work/snaps"
  solver 100000 > "$work/solver.prototxt"
  dotnet "$cli" train --solver "$work/solver.prototxt" > "$work/run.log" 2>&1 &
  pid=$!
  # Wait until the pair of iteration 1 is complete (the log names iteration 2's snapshot), then kill at a random moment.
  for _ in $(seq 1 600); do grep -q '_iter_2\.caffemodel' "$work/run.log" && break; sleep 0.1; done
  sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
  kill -9 "$pid"; wait "$pid" 2>/dev/null

  temps=$(find "$work/snaps" -name '*.tmp' | wc -l)
  newest=$(ls "$work/snaps" | sed -n 's/^wide_iter_\([0-9]*\)\.solverstate$/\1/p' | sort -n | tail -1)
  newest_model=$(ls "$work/snaps" | sed -n 's/^wide_iter_\([0-9]*\)\.caffemodel$/\1/p' | sort -n | tail -1)
  [ "$temps" -gt 0 ] && mid_snapshot=$((mid_snapshot + 1))
  problem=""
  if [ -z "$newest" ] || [ ! -f "$work/snaps/wide_iter_$newest.caffemodel" ]; then
    problem="no complete pair"
  else
    if [ "$newest_model" -gt "$newest" ]; then
      model_only=$((model_only + 1))
      # Resuming the interrupted iteration must be refused, naming the newest complete pair.
      if dotnet "$cli" train --solver "$work/solver.prototxt" --snapshot "$work/snaps/wide_iter_$newest_model.solverstate" > "$work/refused.log" 2>&1 \
         || ! grep -q "exists without it" "$work/refused.log" || ! grep -q "wide_iter_$newest.solverstate" "$work/refused.log"; then
        problem="model-only iteration $newest_model not refused clearly: $(tail -1 "$work/refused.log")"
      fi
    fi
    solver $((newest + 2)) > "$work/resume.prototxt"
    if ! dotnet "$cli" train --solver "$work/resume.prototxt" --snapshot "$work/snaps/wide_iter_$newest.solverstate" > "$work/resume.log" 2>&1; then
      problem="resume from iteration $newest failed: $(tail -1 "$work/resume.log")"
    elif ! grep -q "Restored iteration $newest " "$work/resume.log"; then
      problem="resume did not restore iteration $newest"
    elif [ "$(find "$work/snaps" -name '*.tmp' | wc -l)" -ne 0 ]; then
      problem="temporary files remain after the resumed run: $(find "$work/snaps" -name '*.tmp' | xargs -n1 basename | tr '\n' ' ')"
    fi
  fi
  if [ -n "$problem" ]; then failed=$((failed + 1)); echo "trial $t: FAIL: $problem"
  else ok=$((ok + 1)); echo "trial $t: ok (newest pair $newest, newest model $newest_model, $temps temporary files left by the kill)"; fi
done
echo "RESULT kill9_snapshots trials=$trials ok=$ok failed=$failed killed_mid_snapshot=$mid_snapshot model_only_iterations=$model_only"
[ "$failed" -eq 0 ]
