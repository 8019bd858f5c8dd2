#!/usr/bin/env bash
# Data-parallel scale on this machine (issue 16; results and the cost model in docs/distributed-scaling.md):
#  (a) LeNet images/s: 2 MPI ranks x 1 thread x batch 64 against 1 process x 2 threads x batch 128 (the same
#      effective batch), plus 1 process x 1 thread x batch 64 (one rank's compute alone, for the cost model);
#      alternating rounds, medians;
#  (b) the all-reduce's share of a data-parallel iteration (rank 0's "Data-parallel:" line);
#  (c) MPI all-reduce of gradient-sized float buffers (LeNet, ResNet-50, VGG-16 and a sweep) with 2 and 3 ranks.
# Each of (a) and (c) runs over TCP on loopback and over Open MPI's shared-memory transport (vader).
#   bash bench/distributed/run.sh [--iterations N] [--rounds R] [--repeats K] [--max-floats F] [--only lenet|allreduce] 
#     [--arms A,B]   (arms of (a): 1proc_2threads_b128,1proc_1thread_b64,2ranks_tcp_b64,2ranks_vader_b64, all by default;
#   defaults 300, 3, 10, all sizes: VGG-16's 138M floats take about 0.6 GB per rank, twice that inside MPI)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ITERATIONS=300
ROUNDS=3
REPEATS=10
MAX_FLOATS=999999999999
ONLY=""
ARMS="1proc_2threads_b128 1proc_1thread_b64 2ranks_tcp_b64 2ranks_vader_b64"
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) ITERATIONS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --max-floats) MAX_FLOATS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --arms) ARMS=${2//,/ }; shift 2 ;;
    *) echo "usage: $0 [--iterations N] [--rounds R] [--repeats K] [--max-floats F] [--only lenet|allreduce] [--arms A,B]" >&2; exit 2 ;;
  esac
done

source bench/need_apt.sh
need_apt "command -v mpirun.openmpi" openmpi-bin
# Open MPI's flags for a sandbox on one machine: root allowed, more ranks than cores, no CMA single copy (blocked
# by ptrace rules in containers). TCP over loopback is what the tests use; vader is the shared-memory transport.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI_COMMON=(mpirun.openmpi --allow-run-as-root --oversubscribe --bind-to none)
declare -A TRANSPORT=([tcp]="--mca btl self,tcp --mca btl_tcp_if_include lo" [vader]="--mca btl self,vader")

# BACKPROP_CLI=path/Backprop.Cli.dll runs another build (e.g. a branch's) instead of building this checkout's.
if [ -z "${BACKPROP_CLI:-}" ]; then
  dotnet build src/Backprop.Cli -c Release -v quiet -nologo > /dev/null
fi
CLI=${BACKPROP_CLI:-$ROOT/src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "n/a") }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(mpirun.openmpi --version | head -1)"
echo "load average at start: $(load)"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

lenet() {
  dotnet "$CLI" convert-mnist --output examples/mnist > /dev/null  # fetches MNIST into the cache and writes the LMDBs when absent
  # The example's net with absolute data paths and a given training batch; its solver with no test passes and
  # no snapshot midway (the final one goes to $WORK).
  for batch in 64 128; do
    sed -e "s|examples/mnist/|$ROOT/examples/mnist/|" examples/mnist/lenet_train_test.prototxt |
      awk -v b="$batch" '/phase: TRAIN/ { train = 1 } /phase: TEST/ { train = 0 } train && /batch_size:/ { sub(/batch_size: *[0-9]+/, "batch_size: " b) } { print }' \
      > "$WORK/net$batch.prototxt"
    grep -q "batch_size: $batch" "$WORK/net$batch.prototxt" || { echo "could not set batch_size $batch" >&2; exit 1; }
    sed -e "s|^net:.*|net: \"$WORK/net$batch.prototxt\"|" -e "s|^test_interval:.*|test_interval: 0|" \
        -e "s|^max_iter:.*|max_iter: $ITERATIONS|" -e "s|^snapshot:.*|snapshot: 0|" -e "s|^display:.*|display: 0|" \
        -e "s|^snapshot_prefix:.*|snapshot_prefix: \"$WORK/lenet$batch\"|" examples/mnist/lenet_solver.prototxt > "$WORK/solver$batch.prototxt"
  done
  # images/s from the solver's own step time ("Trained N iterations ... (S s in the iterations themselves)"):
  # process start, net build and the final snapshot are left out on every arm alike.
  rate() { # LOG IMAGES_PER_ITERATION
    sed -nE 's/^Trained ([0-9]+) iterations.*\(([0-9.]+) s in the iterations themselves\).*/\1 \2/p' "$1" |
      awk -v b="$2" '{ if ($2 > 0) printf "%.1f", $1 * b / $2 }'
  }
  declare -A RATES SHARES
  echo
  echo "== (a) LeNet, $ITERATIONS iterations per run, $ROUNDS alternating rounds (effective batch 128 for the first and the 2-rank arms)"
  for round in $(seq "$ROUNDS"); do
    for arm in $ARMS; do
      log="$WORK/$arm.$round.log"
      case $arm in
        1proc_2threads_b128) BACKPROP_NUM_THREADS=2 dotnet "$CLI" train --solver "$WORK/solver128.prototxt" > "$log" 2>&1 || { cat "$log"; exit 1; }
                             r=$(rate "$log" 128) ;;
        1proc_1thread_b64)   BACKPROP_NUM_THREADS=1 dotnet "$CLI" train --solver "$WORK/solver64.prototxt" > "$log" 2>&1 || { cat "$log"; exit 1; }
                             r=$(rate "$log" 64) ;;
        2ranks_*_b64)        t=${arm#2ranks_}; t=${t%_b64}
                             # shellcheck disable=SC2086
                             BACKPROP_NUM_THREADS=1 "${MPI_COMMON[@]}" ${TRANSPORT[$t]} -np 2 -x BACKPROP_NUM_THREADS \
                               dotnet "$CLI" train --solver "$WORK/solver64.prototxt" > "$log" 2>&1 || { cat "$log"; exit 1; }
                             grep -q '^Data-parallel:' "$log" || { echo "no 'Data-parallel:' line: does this build train under mpirun? (issue 16's CLI)" >&2; cat "$log"; exit 1; }
                             r=$(rate "$log" 128)
                             SHARES[$arm]+=" $(sed -nE 's/^Data-parallel:.*all-reduce ([0-9.]+) s of ([0-9.]+) s step time \(([0-9.]+)%\).*/\3/p' "$log")" ;;
      esac
      RATES[$arm]+=" $r"
      printf 'round %d %-22s %8s images/s   load %s\n' "$round" "$arm" "$r" "$(load)"
    done
  done
  echo
  echo "== (a) medians over $ROUNDS rounds; (b) the all-reduce's share of the 2-rank step time (rank 0)"
  printf '%-22s %10s %12s %14s\n' arm "images/s" "ms/iteration" "all-reduce %"
  for arm in $ARMS; do
    m=$(echo "${RATES[$arm]}" | median)
    per=128; [ "$arm" = 1proc_1thread_b64 ] && per=64
    printf '%-22s %10s %12s %14s\n' "$arm" "$m" "$(awk -v m="$m" -v b="$per" 'BEGIN { if (m > 0) printf "%.1f", 1000 * b / m }')" \
      "$(echo "${SHARES[$arm]:-}" | median | sed 's/n\/a/-/')"
  done
  for t in tcp vader; do
    cat "$WORK"/2ranks_${t}_b64.*.log 2>/dev/null | grep '^Data-parallel:' | sed "s/^/$t: /" || true
  done
}

allreduce() {
  dotnet build bench/Backprop.Bench -c Release -v quiet -nologo > /dev/null
  BENCH="$ROOT/bench/Backprop.Bench/bin/Release/net10.0/Backprop.Bench.dll"
  for np in 2 3; do
    for t in tcp vader; do
      echo
      echo "== (c) all-reduce, $np ranks, $t (load $(load))"
      # shellcheck disable=SC2086
      "${MPI_COMMON[@]}" ${TRANSPORT[$t]} -np "$np" dotnet "$BENCH" allreduce "$REPEATS" "$MAX_FLOATS"
    done
  done
}

[ "$ONLY" != allreduce ] && lenet
[ "$ONLY" != lenet ] && allreduce
echo
echo "load average at the end: $(load)"
