#!/usr/bin/env bash
# Trains Caffe's LeNet example with its own prototxt files: fetches MNIST and writes the LMDB
# databases when absent, then runs the solver (10,000 iterations of batch 64) and prints the test accuracy.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Caffe's LMDB format is read and written through the system's LMDB 0.9 library.
if ! ldconfig -p | grep -q 'liblmdb.so.0'; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq liblmdb0
  else echo "Backprop needs LMDB 0.9 for Caffe's databases: run 'sudo apt-get install liblmdb0' (Debian/Ubuntu)." >&2; exit 1; fi
fi
dotnet build src/Backprop.Cli -c Release -v quiet -nologo
backprop() { dotnet src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll "$@"; }
backprop convert-mnist --output examples/mnist
backprop train --solver examples/mnist/lenet_solver.prototxt "$@"
