# Sourced by bench/cifar/run.sh and lockstep.sh: cifar_solver_copy NET DATA WORK ITERATIONS writes WORK/NET_solver.prototxt
# and WORK/NET_train_test.prototxt, the bench's copies of Caffe's files: mean_file (not supported) becomes scale 1/256,
# the sources the generated LMDBs in DATA; no test passes while training, no snapshots, no HDF5 snapshot format (not
# supported either), max_iter ITERATIONS, paths made absolute.
cifar_solver_copy() {
  local net=$1 data=$2 work=$3 iterations=$4
  sed -e 's|mean_file: "examples/cifar10/mean.binaryproto"|scale: 0.00390625|' \
      -e "s#\"examples/cifar10/cifar10_\(train\|test\)_lmdb\"#\"$data/cifar10_\1_lmdb\"#" \
      "bench/cifar/cifar10_${net}_train_test.prototxt" > "$work/${net}_train_test.prototxt"
  sed -e "s|^net:.*|net: \"$work/${net}_train_test.prototxt\"|" -e 's|^test_interval:.*|test_interval: 0|' \
      -e "s|^max_iter:.*|max_iter: $iterations|" -e 's|^snapshot:.*|snapshot: 0|' -e '/^snapshot_format:/d' \
      -e "s|^snapshot_prefix:.*|snapshot_prefix: \"$work/$net\"|" \
      "bench/cifar/cifar10_${net}_solver.prototxt" > "$work/${net}_solver.prototxt"
}
