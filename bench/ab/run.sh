#!/usr/bin/env bash
# One case timed in two revisions inside one process, alternating in short blocks (bench/Backprop.Bench/AbTimings.cs):
# the way to measure a kernel change on a machine whose speed drifts. Prints min, quartile, median and the ratio.
#   bash bench/ab/run.sh CASE [REV_A] [REV_B] [ROUNDS]      e.g.  bash bench/ab/run.sh conv:lenet2:bwdW HEAD~1 HEAD
# BACKPROP_AB_CLOCK=cpu: process CPU time instead of wall time (steadier on a loaded machine; pair it with BACKPROP_NUM_THREADS=1).
# REV_A defaults to HEAD, REV_B to the working tree ("."); both must contain this harness. Cases:
# conv:{lenet1|lenet2|vgg|1x1|cq1|cq2|cq3|res16|res32s2|res64|vgg32|vgg256|N,C,H,W,K,kernel,stride,pad}:{fwd|bwdData|bwdW}, pool:{pool1|pool2}:{fwd|bwd}, gemm:M:N:K[:TN|NT|TT], step, solver, infer:{lenet|lenet64|resnet20|resnet20folded} (eval forward; lenet64 at batch 64).
set -euo pipefail
cd "$(dirname "$0")/../.."
CASE=${1:?usage: bash bench/ab/run.sh CASE [REV_A] [REV_B] [ROUNDS]}
REV_A=${2:-HEAD}
REV_B=${3:-.}
ROUNDS=${4:-60}
WORK=$(mktemp -d)
cleanup() {
  for side in A B; do [ -d "$WORK/src-$side" ] && git worktree remove --force "$WORK/src-$side"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
build() {  # build REV SIDE: the revision's bench project into $WORK/SIDE
  local src=.
  if [ "$1" != . ]; then
    git worktree add --detach -q "$WORK/src-$2" "$1"
    src="$WORK/src-$2"
  fi
  dotnet build "$src/bench/Backprop.Bench" -c Release -v quiet -nologo -o "$WORK/$2" >/dev/null
}
build "$REV_A" A
build "$REV_B" B
echo "A: $REV_A   B: $REV_B   load average (1 min) before: $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores"
BACKPROP_NUM_THREADS=${BACKPROP_NUM_THREADS:-2} dotnet "$WORK/B/Backprop.Bench.dll" ab "$CASE" "$ROUNDS" "$WORK/A" "$WORK/B"
