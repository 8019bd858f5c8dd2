#!/usr/bin/env bash
# Writes examples/mnist/mnist_train_lmdb and mnist_test_lmdb as Caffe's create_mnist.sh does,
# fetching MNIST into the data cache ($BACKPROP_DATA, default ~/.backprop/data) when absent.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet run --project src/Backprop.Cli -c Release -- convert-mnist --output examples/mnist "$@"
