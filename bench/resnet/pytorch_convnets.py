#!/usr/bin/env python3
"""The peer side of bench/resnet/run.sh: ResNet-20 (32x32, batch 128) or the VGG-style stack (64x64, batch 32) in
PyTorch, the same nets as bench/Backprop.Bench/ConvNets.cs, trained on random images and labels with SGD (momentum 0.9,
lr 0.1, weight decay 5e-4) and cross-entropy, then timed in eval mode under no_grad at batch 64 and batch 1.
Prints one RESULT line with the same keys as Backprop.Bench's convnet case."""
import argparse
import os
import resource
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch
import torch.nn as nn
import torch.nn.functional as F

WARMUP = 2


class BasicBlock(nn.Module):
    def __init__(self, in_channels, channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = None
        if stride != 1 or in_channels != channels:  # option B: 1x1 conv with stride + BatchNorm
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, channels, 1, stride, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):  # in-place ReLUs and sum, as torchvision's BasicBlock: the peer at its leanest
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)), inplace=True)))
        y += x if self.shortcut is None else self.shortcut(x)
        return F.relu(y, inplace=True)


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, in_channels = [], 16
        for channels, stride in ((16, 1), (32, 2), (64, 2)):
            for b in range(3):
                blocks.append(BasicBlock(in_channels, channels, stride if b == 0 else 1))
                in_channels = channels
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn1(self.conv1(x)), inplace=True))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class VggStack(nn.Module):
    WIDTHS = (32, 64, 128, 256)

    def __init__(self, classes=10):
        super().__init__()
        layers, in_channels = [], 3
        for width in self.WIDTHS:
            for _ in range(2):
                layers += [nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                in_channels = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(in_channels, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


def median(values):
    return sorted(values)[len(values) // 2]


# Untimed inference calls before the timed ones: `warmup` calls and at least this long (ConvNetTimings.cs does the same:
# .NET's tiered JIT takes a second or two of calls to reach its optimized code on the eval path).
INFERENCE_WARMUP_S = 2.0


def inference(model, x, repeats, warmup):
    times = []
    with torch.no_grad():
        begin, calls = time.perf_counter(), 0
        while calls < warmup or time.perf_counter() - begin < INFERENCE_WARMUP_S:
            model(x)
            calls += 1
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - start) * 1000)
    return median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("net", choices=("resnet20", "vgg"))
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--inference-repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=WARMUP, help="training steps run before the timed ones (and inference calls before the timed ones)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model, batch, size = (ResNet20(), 128, 32) if args.net == "resnet20" else (VggStack(), 32, 64)
    images = torch.rand(batch, 3, size, size)
    labels = torch.randint(0, 10, (batch,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    model.train()
    times = []
    for i in range(args.iterations + args.warmup):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        if i >= args.warmup:
            times.append((time.perf_counter() - start) * 1000)
    train_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model.eval()
    batch64 = inference(model, torch.rand(64, 3, size, size), args.inference_repeats, args.warmup)
    batch1 = inference(model, torch.rand(1, 3, size, size), args.inference_repeats * 4, args.warmup)
    params = sum(t.numel() for t in model.parameters())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RESULT pytorch net={args.net} batch={batch} size={size} params={params} "
          f"train_ms_median={median(times):.2f} train_ms_mean={sum(times) / len(times):.2f} iterations={args.iterations} "
          f"loss={loss.item():.4f} infer64_ms={batch64:.2f} infer64_images_per_s={64000 / batch64:.0f} infer1_ms={batch1:.3f} "
          f"train_peak_mb={train_peak_mb:.0f} peak_working_set_mb={peak_mb:.0f}", flush=True)


if __name__ == "__main__":
    main()
