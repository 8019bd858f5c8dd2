"""The PyTorch side of bench/resnet/accuracy.sh: ResNet-20 (pytorch_convnets.py's) trained on Fashion-MNIST with the
recipe of bench/Backprop.Bench/FashionAccuracy.cs: images scaled to [0, 1], normalized by 0.2860 / 0.3530, zero-padded
to 32x32 and repeated over three channels; batch 128, reshuffled each epoch (the last partial batch dropped); SGD
momentum 0.9, weight decay 5e-4, lr 0.1 and 0.01 in the last epoch; test accuracy over the 10,000 test images in eval mode. Prints a RESULT line.
Reads Debian's dataset-fashion-mnist files (/usr/share/datasets/fashion-mnist)."""
import argparse
import gzip
import time

import numpy as np
import torch
import torch.nn.functional as F

from pytorch_convnets import ResNet20

FOLDER = "/usr/share/datasets/fashion-mnist"
MEAN, DEVIATION, BATCH = 0.2860, 0.3530, 128


def load(prefix):
    with gzip.open(f"{FOLDER}/{prefix}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{FOLDER}/{prefix}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = (torch.from_numpy(images.astype(np.float32)) / 255 - MEAN) / DEVIATION
    x = F.pad(x, (2, 2, 2, 2)).repeat(1, 3, 1, 1)
    return x.contiguous(), torch.from_numpy(labels.astype(np.int64))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    model = ResNet20()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    steps = len(train_y) // BATCH
    loss = torch.tensor(float("nan"))
    start = time.perf_counter()
    model.train()
    for epoch in range(args.epochs):
        for group in optimizer.param_groups:
            group["lr"] = 0.01 if epoch == args.epochs - 1 and args.epochs > 1 else 0.1
        order = torch.randperm(len(train_y))
        for step in range(steps):
            index = order[step * BATCH:(step + 1) * BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(train_x[index]), train_y[index])
            loss.backward()
            optimizer.step()
    train_seconds = time.perf_counter() - start
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(test_y), 500):
            correct += (model(test_x[i:i + 500]).argmax(1) == test_y[i:i + 500]).sum().item()
    print(f"RESULT pytorch net=resnet20 data=fashion-mnist epochs={args.epochs} seed={args.seed} steps={steps * args.epochs} "
          f"loss={loss.item():.4f} train_seconds={train_seconds:.1f} test_accuracy={correct / len(test_y):.4f}", flush=True)


if __name__ == "__main__":
    main()
