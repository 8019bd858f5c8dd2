#!/usr/bin/env python3
"""Caffe's LeNet MNIST example (lenet_train_test.prototxt + lenet_solver.prototxt) in PyTorch, written out:
Caffe's xavier fillers, Caffe's SGD (learning rate inside the momentum buffer), the inv schedule, lr_mult 2 on
biases, and Caffe's data order (records in file order, cycling, scaled by 1/256). Test passes are not timed."""
import argparse
import os
import time

PROCESS_START = time.perf_counter()  # before torch loads

# Set before torch loads: intra-op threads come from --threads, the BLAS runs single-threaded.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, where the machine sets them, are left as they are.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn.functional as F

BASE_LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 0.0005
GAMMA, POWER = 1e-4, 0.75
TRAIN_BATCH, TEST_BATCH, TEST_ITER = 64, 100, 100
SCALE = 0.00390625  # transform_param scale: 1/256


def read_idx(path):
    """An IDX file (uncompressed) as a numpy array of its shape."""
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype(np.float32) * SCALE).unsqueeze(1)  # N x 1 x 28 x 28
    return x, torch.from_numpy(labels.astype(np.int64))


def batch(x, y, index, size):
    """Caffe's Data layer: batch `index` is the next `size` records in file order, wrapping at the end."""
    rows = torch.arange(index * size, (index + 1) * size) % x.shape[0]
    return x[rows], y[rows]


class LeNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 20, 5)
        self.conv2 = torch.nn.Conv2d(20, 50, 5)
        self.ip1 = torch.nn.Linear(50 * 4 * 4, 500)
        self.ip2 = torch.nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x), 2, 2)
        x = F.max_pool2d(self.conv2(x), 2, 2)
        x = F.relu(self.ip1(x.flatten(1)))  # ReLU only after ip1, as in the prototxt
        return self.ip2(x)


def caffe_init(model):
    """weight_filler xavier (Caffe's: U[-a, a], a = sqrt(3 / fan_in), fan_in = count / num_output); bias 0."""
    with torch.no_grad():
        for layer in (model.conv1, model.conv2, model.ip1, model.ip2):
            fan_in = layer.weight[0].numel()
            a = (3.0 / fan_in) ** 0.5
            layer.weight.uniform_(-a, a)
            layer.bias.zero_()


def lr_at(it):
    """lr_policy "inv": base_lr * (1 + gamma * iter) ^ (-power)."""
    return BASE_LR * (1.0 + GAMMA * it) ** (-POWER)


def test(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(TEST_ITER):
            xb, yb = batch(x, y, i, TEST_BATCH)
            correct += (model(xb).argmax(1) == yb).sum().item()
    model.train()
    return correct / (TEST_ITER * TEST_BATCH)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--iterations", type=int, default=10000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--test-interval", type=int, default=0, help="0: test only at the end")
    p.add_argument("--data-dir", default=os.path.join(os.environ.get("BACKPROP_DATA", os.path.expanduser("~/.backprop/data")), "mnist"))
    p.add_argument("--seed", type=int, default=1701)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data_dir, "train")
    test_x, test_y = load(args.data_dir, "t10k")

    model = LeNet()
    caffe_init(model)
    # (parameter, lr_mult, decay_mult, momentum buffer); biases: lr_mult 2, decay_mult 1.
    params = [(w, 2.0 if name.endswith("bias") else 1.0, 1.0, torch.zeros_like(w)) for name, w in model.named_parameters()]

    train_seconds = 0.0
    for it in range(args.iterations):
        start = time.perf_counter()
        xb, yb = batch(train_x, train_y, it, TRAIN_BATCH)
        loss = F.cross_entropy(model(xb), yb)  # SoftmaxWithLoss: mean over the batch
        for w, *_ in params:
            w.grad = None
        loss.backward()
        lr = lr_at(it)
        with torch.no_grad():  # Caffe's SGD: v = m * v + lr * (g + wd * w); w -= v
            for w, lr_mult, decay_mult, v in params:
                g = w.grad.add(w, alpha=WEIGHT_DECAY * decay_mult)
                v.mul_(MOMENTUM).add_(g, alpha=lr * lr_mult)
                w.sub_(v)
        train_seconds += time.perf_counter() - start
        if args.test_interval > 0 and (it + 1) % args.test_interval == 0 and it + 1 < args.iterations:
            print(f"pytorch iteration={it + 1} loss={loss.item():.4f} test_accuracy={test(model, test_x, test_y):.4f}", flush=True)

    wall_seconds = time.perf_counter() - PROCESS_START  # imports, data, init and training; no test
    accuracy = test(model, test_x, test_y)
    print(f"pytorch train_seconds={train_seconds:.2f} wall_seconds={wall_seconds:.2f} iterations={args.iterations} threads={args.threads} "
          f"loss={loss.item():.4f} test_accuracy={accuracy:.4f}")


if __name__ == "__main__":
    main()
