#!/usr/bin/env bash
# Trains Caffe's LeNet example with its own prototxt files: fetches MNIST and writes the LMDB
# databases when absent, then runs the solver (10,000 iterations of batch 64) and prints the test accuracy.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build src/Backprop.Cli -c Release -v quiet -nologo
backprop() { dotnet src/Backprop.Cli/bin/Release/net10.0/Backprop.Cli.dll "$@"; }
backprop convert-mnist --output examples/mnist
backprop train --solver examples/mnist/lenet_solver.prototxt "$@"
