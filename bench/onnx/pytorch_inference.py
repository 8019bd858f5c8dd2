#!/usr/bin/env python3
"""The PyTorch side of bench/onnx/run.sh: LeNet (bench/kernels/peer.py's net) and ResNet-20 (bench/resnet/pytorch_convnets.py's)
in eval mode under no_grad, random weights, at batch 1 (median and p90 ms) and batch 64 (images/s), timed the way
Backprop.Bench's onnx-inference case times its sides: per round a block of calls whose first is not recorded.
Prints "RESULT onnx ... side=pytorch" lines in that case's format.   args: ROUNDS [THREADS] [lenet,resnet20]"""
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resnet"))
from pytorch_convnets import ResNet20  # noqa: E402  (the bench's ResNet-20, option-B shortcuts)


def lenet():
    return nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2),
                         nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))


def resnet20():
    model = ResNet20()
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(8, 3, 32, 32))  # running statistics off their defaults, as the Backprop side does
    return model


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    nets = sys.argv[3].split(",") if len(sys.argv) > 3 else ["lenet", "resnet20"]
    torch.manual_seed(1)
    for net in nets:
        model, sample = (lenet(), (1, 28, 28)) if net == "lenet" else (resnet20(), (3, 32, 32))
        model.eval()
        for batch in (1, 64):
            x = torch.rand(batch, *sample)
            block = 21 if batch == 1 else 3
            batch_rounds = rounds if batch == 1 else max(3, rounds // 3)
            times = []
            with torch.no_grad():
                for r in range(-2, batch_rounds):
                    for i in range(block):
                        start = time.perf_counter()
                        model(x)
                        ms = (time.perf_counter() - start) * 1000
                        if r >= 0 and i > 0:
                            times.append(ms)
            times.sort()
            median = times[len(times) // 2]
            p90 = times[min(len(times) - 1, -(-9 * len(times) // 10) - 1)]
            print(f"RESULT onnx net={net} batch={batch} side=pytorch median_ms={median:.4f} p90_ms={p90:.4f} "
                  f"images_per_s={batch * 1000 / median:.0f} n={len(times)}", flush=True)


if __name__ == "__main__":
    main()
