"""Lockstep check of the recipe in fashion_resnet.py against Backprop's (bench/Backprop.Bench/FashionLockstep.cs):
PyTorch draws ResNet-20's initial weights and one epoch's batch order, writes both to DIR (init.safetensors, order.bin
as little-endian int32), then trains STEPS steps of the recipe from them and prints the loss after each step and the
test accuracy in eval mode. Backprop's side loads the same two files and does the same; if the recipes match, the
losses agree to float rounding at first and drift apart only slowly (training is chaotic).
    python3 fashion_lockstep.py DIR [--steps K] [--seed S] [--threads T]"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from fashion_resnet import BATCH, load
from pytorch_convnets import ResNet20


def save_safetensors(path, tensors):  # the format: u64 header length, JSON header, raw little-endian data
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("dir")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    model = ResNet20()
    order = torch.randperm(len(train_y))[:args.steps * BATCH]
    os.makedirs(args.dir, exist_ok=True)
    save_safetensors(os.path.join(args.dir, "init.safetensors"),
                     {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")})
    order.numpy().astype("<i4").tofile(os.path.join(args.dir, "order.bin"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    model.train()
    for step in range(args.steps):
        index = order[step * BATCH:(step + 1) * BATCH]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(train_x[index]), train_y[index])
        loss.backward()
        optimizer.step()
        print(f"STEP pytorch {step + 1} loss={loss.item():.6f}", flush=True)
    model.eval()
    with torch.no_grad():
        correct = sum((model(test_x[i:i + 500]).argmax(1) == test_y[i:i + 500]).sum().item() for i in range(0, len(test_y), 500))
    print(f"RESULT pytorch lockstep steps={args.steps} test_accuracy={correct / len(test_y):.4f}", flush=True)


if __name__ == "__main__":
    main()
