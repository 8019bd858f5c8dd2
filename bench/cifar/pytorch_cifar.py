#!/usr/bin/env python3
"""Caffe's cifar10_quick and cifar10_full examples (bench/cifar/*.prototxt) in PyTorch, written out: the same layers
(Caffe's pooling rounds its output size up: ceil_mode; LRN WITHIN_CHANNEL: x / (1 + alpha * mean of x^2 over the 3x3
window, zero-padded)^beta), gaussian fillers and zero biases, Caffe's SGD (learning rate inside the momentum buffer,
lr_mult / decay_mult per blob), batches of 100 in file order, cycling, pixels scaled by 1/256 (the bench's copy of the
nets uses scale: 0.00390625 in place of Caffe's mean file). Reads the raw files `backprop synthesize-cifar` writes
beside the LMDBs ({train,test}_images.u8: N x 3 x 32 x 32 bytes; {train,test}_labels.u8). Test passes are not timed.
Prints one RESULT line with the keys of Backprop.Bench's caffe-train case."""
import argparse
import os
import resource
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BASE_LR, MOMENTUM, WEIGHT_DECAY = 0.001, 0.9, 0.004  # both solvers; lr_policy "fixed"
BATCH, TEST_ITER, SCALE = 100, 100, 0.00390625


def load(data_dir, split):
    x = np.fromfile(os.path.join(data_dir, f"{split}_images.u8"), np.uint8).reshape(-1, 3, 32, 32)
    y = np.fromfile(os.path.join(data_dir, f"{split}_labels.u8"), np.uint8)
    if x.shape[0] != y.shape[0]:
        raise SystemExit(f"{data_dir}: {x.shape[0]} {split} images but {y.shape[0]} labels")
    return torch.from_numpy(x.astype(np.float32) * SCALE), torch.from_numpy(y.astype(np.int64))


def batch(x, y, index):
    rows = torch.arange(index * BATCH, (index + 1) * BATCH) % x.shape[0]
    return x[rows], y[rows]


def lrn_within_channel(x, size=3, alpha=5e-05, beta=0.75):
    return x / (1 + alpha * F.avg_pool2d(x * x, size, 1, size // 2, count_include_pad=True)) ** beta


class CifarNet(nn.Module):
    """quick: conv1 pool1(max) relu1 conv2 relu2 pool2(ave) conv3 relu3 pool3(ave) ip1(64) ip2(10);
    full: conv1 pool1 relu1 norm1 conv2 relu2 pool2 norm2 conv3 relu3 pool3 ip1(10)."""

    def __init__(self, full):
        super().__init__()
        self.full = full
        self.conv1 = nn.Conv2d(3, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 32, 5, padding=2)
        self.conv3 = nn.Conv2d(32, 64, 5, padding=2)
        if full:
            self.ip1 = nn.Linear(64 * 4 * 4, 10)
        else:
            self.ip1 = nn.Linear(64 * 4 * 4, 64)
            self.ip2 = nn.Linear(64, 10)
        stds = {"conv1": 0.0001, "conv2": 0.01, "conv3": 0.01, "ip1": 0.01 if full else 0.1, "ip2": 0.1}
        with torch.no_grad():
            for name, layer in self.named_children():
                layer.weight.normal_(0, stds[name])
                layer.bias.zero_()

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 3, 2, ceil_mode=True))
        if self.full:
            x = lrn_within_channel(x)
        x = F.avg_pool2d(F.relu(self.conv2(x)), 3, 2, ceil_mode=True)
        if self.full:
            x = lrn_within_channel(x)
        x = F.avg_pool2d(F.relu(self.conv3(x)), 3, 2, ceil_mode=True)
        x = self.ip1(x.flatten(1))
        return x if self.full else self.ip2(x)

    def multipliers(self):
        """(parameter, lr_mult, decay_mult) as the prototxt's param blocks give them."""
        for name, w in self.named_parameters():
            layer, kind = name.split(".")
            if self.full and layer == "conv3":
                yield w, 1.0, 1.0  # no param blocks: lr_mult 1 on weights and bias
            elif self.full and layer == "ip1":
                yield (w, 1.0, 250.0) if kind == "weight" else (w, 2.0, 0.0)
            else:
                yield w, 1.0 if kind == "weight" else 2.0, 1.0


def caffe_sgd_step(params):
    """Caffe's SGD on (parameter, lr_mult, decay_mult, history) tuples:
    v = m * v + lr * lr_mult * (g + wd * decay_mult * w); w -= v."""
    with torch.no_grad():
        for w, lr_mult, decay_mult, v in params:
            g = w.grad.add(w, alpha=WEIGHT_DECAY * decay_mult)
            v.mul_(MOMENTUM).add_(g, alpha=BASE_LR * lr_mult)
            w.sub_(v)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("net", choices=("quick", "full"))
    p.add_argument("--data", required=True, help="the folder backprop synthesize-cifar wrote")
    p.add_argument("--iterations", type=int, default=500)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1701)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data, "train")
    test_x, test_y = load(args.data, "test")
    model = CifarNet(args.net == "full")
    params = [(w, lr_mult, decay_mult, torch.zeros_like(w)) for w, lr_mult, decay_mult in model.multipliers()]

    times = []
    start_all = time.perf_counter()
    for it in range(args.iterations):
        start = time.perf_counter()
        xb, yb = batch(train_x, train_y, it)
        loss = F.cross_entropy(model(xb), yb)
        for w, *_ in params:
            w.grad = None
        loss.backward()
        caffe_sgd_step(params)
        times.append((time.perf_counter() - start) * 1000)
    train_seconds = time.perf_counter() - start_all

    model.eval()
    correct, test_start = 0, time.perf_counter()
    with torch.no_grad():
        for i in range(TEST_ITER):
            xb, yb = batch(test_x, test_y, i)
            correct += (model(xb).argmax(1) == yb).sum().item()
    test_ms = (time.perf_counter() - test_start) * 1000
    times_sorted = sorted(times)
    print(f"RESULT pytorch ms_per_iter_median={times_sorted[len(times) // 2]:.2f} ms_per_iter_mean={sum(times) / len(times):.2f} "
          f"train_seconds={train_seconds:.2f} iterations={args.iterations} loss={loss.item():.4f} "
          f"test_accuracy={correct / (TEST_ITER * BATCH):.4f} test_ms_per_batch={test_ms / TEST_ITER:.2f} test_batches={TEST_ITER} "
          f"peak_working_set_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}", flush=True)


if __name__ == "__main__":
    main()
