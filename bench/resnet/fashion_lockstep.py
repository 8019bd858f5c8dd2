"""Lockstep check of the recipe in fashion_resnet.py against Backprop's (bench/Backprop.Bench/FashionLockstep.cs):
PyTorch draws ResNet-20's initial weights and one epoch's batch order, writes both to DIR (init.safetensors, order.bin
as little-endian int32), then trains STEPS steps of the recipe from them and prints the loss after each step and the
test accuracy in eval mode. Backprop's side loads the same two files and does the same; if the recipes match, the
losses agree to float rounding at first, then drift apart (training at lr 0.1 is chaotic: rounding differences grow
about tenfold a step). For scale, the same training is run a second time on 1 thread, whose only difference is the
order of float sums; its losses print as REFERENCE lines.
Both sides also save their weights and running statistics after the first step; --compare runs that step in float64
and measures each side's distance from it.
    python3 fashion_lockstep.py DIR [--steps K] [--seed S] [--threads T]
    python3 fashion_lockstep.py DIR --compare"""
import argparse
import copy
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


def state(model):  # parameters and running statistics (Backprop keeps no batch counter)
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def load_safetensors(path):
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        data = f.read()
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], "<f4").reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__"}


def compare_first_step(folder):
    """Runs the first step once more in float64 from the same weights and batch, and prints how far each side's
    float32 weights after that step are from it, as a fraction of the step (largest element error over largest
    element of the step, per tensor). Rounding with cancellation gives up to ~1e-2 on both sides; a term of the
    update missing or different on one side would give a fraction near 1 on the tensors it concerns."""
    start, torch_step, backprop_step = (load_safetensors(os.path.join(folder, f)) for f in
                                        ("init.safetensors", "pytorch_step1.safetensors", "backprop_step1.safetensors"))
    train_x, train_y = load("train")
    index = torch.from_numpy(np.fromfile(os.path.join(folder, "order.bin"), "<i4")[:BATCH].astype(np.int64))
    model = ResNet20().double()
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in start.items()}, strict=False)
    train(model, train_x[index].double(), train_y[index], torch.arange(BATCH), 1, "FLOAT64 pytorch")
    exact = {k: v.numpy() for k, v in state(model).items()}
    rows = []
    for name, w0 in start.items():
        moved = max(np.abs(exact[name] - w0).max(), 1e-30)
        rows.append((np.abs(backprop_step[name] - exact[name]).max() / moved, np.abs(torch_step[name] - exact[name]).max() / moved, name))
    rows.sort(reverse=True)
    print(f"after step 1, |float32 - float64| / |float64 step|, the largest over {len(rows)} tensors: "
          f"Backprop {rows[0][0]:.1e}, PyTorch {max(r[1] for r in rows):.1e}; Backprop's four largest:")
    for backprop, pytorch, name in rows[:4]:
        print(f"  {name:32s} Backprop {backprop:.1e}  PyTorch {pytorch:.1e}")


def train(model, train_x, train_y, order, steps, label, save_first=None):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    model.train()
    for step in range(steps):
        index = order[step * BATCH:(step + 1) * BATCH]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(train_x[index]), train_y[index])
        loss.backward()
        optimizer.step()
        print(f"{label} {step + 1} loss={loss.item():.6f}", flush=True)
        if step == 0 and save_first:
            save_safetensors(save_first, state(model))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("dir")
    p.add_argument("--compare", action="store_true", help="only compare DIR's step-1 files of both sides")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    if args.compare:
        compare_first_step(args.dir)
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    model = ResNet20()
    order = torch.randperm(len(train_y))[:args.steps * BATCH]
    os.makedirs(args.dir, exist_ok=True)
    save_safetensors(os.path.join(args.dir, "init.safetensors"), state(model))
    order.numpy().astype("<i4").tofile(os.path.join(args.dir, "order.bin"))
    reference = copy.deepcopy(model)
    train(model, train_x, train_y, order, args.steps, "STEP pytorch", os.path.join(args.dir, "pytorch_step1.safetensors"))
    torch.set_num_threads(1)
    train(reference, train_x, train_y, order, args.steps, "REFERENCE pytorch-1-thread")
    torch.set_num_threads(args.threads)
    model.eval()
    with torch.no_grad():
        correct = sum((model(test_x[i:i + 500]).argmax(1) == test_y[i:i + 500]).sum().item() for i in range(0, len(test_y), 500))
    print(f"RESULT pytorch lockstep steps={args.steps} test_accuracy={correct / len(test_y):.4f}", flush=True)


if __name__ == "__main__":
    main()
