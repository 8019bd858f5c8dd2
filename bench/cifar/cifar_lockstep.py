#!/usr/bin/env python3
"""PyTorch's half of the lockstep check of cifar10_quick (bench/cifar/lockstep.sh; Backprop.Bench's cifar-lockstep is
the other half): loads the initial weights Backprop's CaffeSolver drew (DIR/init.safetensors, Caffe's blob names
conv1.0 / conv1.1 ...) into pytorch_cifar.py's net, trains STEPS steps of pytorch_cifar.py's recipe (the same
batches: file order, pixels times 1/256) and prints each step's loss and every blob's L2 norm after the update, as
STEP lines in float32 and REFERENCE lines for the same training in float64 (what exact arithmetic would give).
    python3 cifar_lockstep.py DIR --data DATA [--steps K] [--threads T]
    python3 cifar_lockstep.py DIR --data DATA --compare BACKPROP_OUTPUT PYTORCH_OUTPUT
--compare prints the losses side by side, the worst relative blob-norm difference per step, and after step 1 each
side's distance from the float64 step (DIR/backprop_step1.safetensors, DIR/pytorch_step1.safetensors)."""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resnet"))
from fashion_lockstep import load_safetensors, save_safetensors  # noqa: E402
from pytorch_cifar import BASE_LR, BATCH, MOMENTUM, TEST_ITER, WEIGHT_DECAY, CifarNet, batch, caffe_sgd_step, load  # noqa: E402


def caffe_name(name):  # conv1.weight -> conv1.0, conv1.bias -> conv1.1: Caffe's layer name and blob index
    layer, kind = name.split(".")
    return f"{layer}.{0 if kind == 'weight' else 1}"


def model_from(start, dtype):
    model = CifarNet(full=False).to(dtype)
    with torch.no_grad():
        for name, w in model.named_parameters():
            w.copy_(torch.from_numpy(start[caffe_name(name)].astype(np.float64)).to(dtype))
    return model


def train(model, train_x, train_y, steps, label, save_first=None):
    params = [(w, lr_mult, decay_mult, torch.zeros_like(w)) for w, lr_mult, decay_mult in model.multipliers()]
    names = [caffe_name(n) for n, _ in model.named_parameters()]
    x_all = train_x.to(next(model.parameters()).dtype)
    for step in range(steps):
        xb, yb = batch(x_all, train_y, step)
        loss = F.cross_entropy(model(xb), yb)
        for w, *_ in params:
            w.grad = None
        loss.backward()
        caffe_sgd_step(params)
        norms = ",".join(f"{w.detach().double().norm().item():.9g}" for w, *_ in params)
        print(f"{label} {step + 1} loss={loss.item():.9g} norms={norms}", flush=True)
        if step == 0 and save_first:
            save_safetensors(save_first, {n: w.float() for n, (w, *_) in zip(names, params)})


def parse(path, prefix):
    rows = {}
    for line in open(path):
        if line.startswith(prefix):
            parts = line.split()
            rows[int(parts[2])] = (float(parts[3].split("=")[1]), np.array([float(v) for v in parts[4].split("=")[1].split(",")]))
    return rows


def compare(folder, backprop_output, pytorch_output):
    bp, pt, ref = parse(backprop_output, "STEP backprop"), parse(pytorch_output, "STEP pytorch"), parse(pytorch_output, "REFERENCE")
    names = next(line.split()[1] for line in open(backprop_output) if line.startswith("BLOBS")).split(",")
    print("step  loss Backprop  loss PyTorch  loss float64 | rel. loss diff BP-PT  BP-f64  PT-f64 | worst rel. norm diff BP-PT  BP-f64  PT-f64")
    last = max(s for s in bp if s in pt)
    for s in range(1, last + 1):
        (lb, nb), (lp, np_), (lr, nr) = bp[s], pt[s], ref.get(s, (float("nan"), np.full_like(bp[s][1], np.nan)))
        if s <= 10 or s % 10 == 0 or s == last:
            rel = lambda a, b: abs(a - b) / abs(b)  # noqa: E731
            print(f"{s:4d}  {lb:13.7f}  {lp:12.7f}  {lr:12.7f} | {rel(lb, lp):20.1e}  {rel(lb, lr):6.1e}  {rel(lp, lr):6.1e} |"
                  f" {np.max(np.abs(nb - np_) / nr):26.1e}  {np.max(np.abs(nb - nr) / nr):6.1e}  {np.max(np.abs(np_ - nr) / nr):6.1e}"
                  f"  ({names[int(np.argmax(np.abs(nb - nr) / nr))]})")
    if last not in ref:  # a run without the float64 reference
        return
    nb, np_, nr = bp[last][1], pt[last][1], ref[last][1]
    print(f"blob norms after step {last}: " + ", ".join(f"{n} {b:.5g}/{p:.5g}/{r:.5g}" for n, b, p, r in zip(names, nb, np_, nr))
          + " (Backprop/PyTorch/float64)")
    start, b1, p1 = (load_safetensors(os.path.join(folder, f)) for f in ("init.safetensors", "backprop_step1.safetensors", "pytorch_step1.safetensors"))
    exact = load_safetensors(os.path.join(folder, "float64_step1.safetensors"))
    print("after step 1, max |float32 - float64| / max |float64 step| per blob (a missing or different term of the update gives ~1):")
    for n in names:
        moved = max(np.abs(exact[n].astype(np.float64) - start[n]).max(), 1e-30)
        print(f"  {n:8s} Backprop {np.abs(b1[n] - exact[n]).max() / moved:.1e}  PyTorch {np.abs(p1[n] - exact[n]).max() / moved:.1e}")


def gradients(model, x, y):
    for w in model.parameters():
        w.grad = None
    F.cross_entropy(model(x.to(next(model.parameters()).dtype)), y).backward()
    return {caffe_name(n): w.grad.double().numpy() for n, w in model.named_parameters()}


def compare_gradients(folder, data):
    """For each step s Backprop dumped (DIR/backprop_before{s}, backprop_grad{s}): the gradient of batch s from
    Backprop's weights before that step, in float64 and in PyTorch float32, against Backprop's float32 gradient.
    Measures each side's error alone, without the drift of the weights: rounding gives ~1e-6..1e-4 relative,
    a different computation ~1."""
    train_x, train_y = load(data, "train")
    steps = sorted(int(f[len("backprop_grad"):-len(".safetensors")]) for f in os.listdir(folder) if f.startswith("backprop_grad"))
    for s in steps:
        start = load_safetensors(os.path.join(folder, f"backprop_before{s}.safetensors"))
        bp = load_safetensors(os.path.join(folder, f"backprop_grad{s}.safetensors"))
        xb, yb = batch(train_x, train_y, s - 1)
        exact, single = gradients(model_from(start, torch.float64), xb, yb), gradients(model_from(start, torch.float32), xb, yb)
        print(f"step {s}: max |gradient - float64 gradient| / max |float64 gradient| per blob, Backprop / PyTorch float32:")
        print("  " + ", ".join(f"{n} {np.abs(bp[n] - g).max() / np.abs(g).max():.1e}/{np.abs(single[n] - g).max() / np.abs(g).max():.1e}"
                             for n, g in exact.items()))
        # The update: with the weights before steps s-1, s, s+1, Caffe's SGD says
        # w_s - w_{s+1} = m * (w_{s-1} - w_s) + lr * lr_mult * (g_s + wd * decay_mult * w_s).
        names = {n: (lr_mult, decay_mult) for n, (_, lr_mult, decay_mult) in
                 zip((caffe_name(n) for n, _ in CifarNet(False).named_parameters()), CifarNet(False).multipliers())}
        w0, w2 = (load_safetensors(os.path.join(folder, f"backprop_before{t}.safetensors")) for t in (s - 1, s + 1))
        errors = []
        for n, (lr_mult, decay_mult) in names.items():
            a, b, c = (w[n].astype(np.float64) for w in (w0, start, w2))
            expected = MOMENTUM * (a - b) + BASE_LR * lr_mult * (bp[n] + WEIGHT_DECAY * decay_mult * b)
            errors.append(f"{n} {np.abs((b - c) - expected).max() / np.abs(expected).max():.1e}")
        print("  step's update against Caffe's SGD from the gradient, max |error| / max |update|: " + ", ".join(errors))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("dir")
    p.add_argument("--data", required=True, help="the folder backprop synthesize-cifar wrote")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--compare", nargs=2, metavar=("BACKPROP_OUTPUT", "PYTORCH_OUTPUT"))
    p.add_argument("--no-reference", action="store_true", help="skip the float64 run (long runs: to compare test accuracies)")
    p.add_argument("--gradients", action="store_true", help="only compare the gradients Backprop dumped (DIR/backprop_grad*)")
    args = p.parse_args()
    if args.compare:
        compare(args.dir, *args.compare)
        return
    if args.gradients:
        compare_gradients(args.dir, args.data)
        return
    torch.set_num_threads(args.threads)
    start = load_safetensors(os.path.join(args.dir, "init.safetensors"))
    train_x, train_y = load(args.data, "train")
    train_x, train_y = train_x[:args.steps * BATCH], train_y[:args.steps * BATCH]  # the images the steps read (batch cycles)
    model = model_from(start, torch.float32)
    train(model, train_x, train_y, args.steps, "STEP pytorch", os.path.join(args.dir, "pytorch_step1.safetensors"))
    test_x, test_y = load(args.data, "test")
    with torch.no_grad():
        correct = sum((model(batch(test_x, test_y, i)[0]).argmax(1) == batch(test_x, test_y, i)[1]).sum().item() for i in range(TEST_ITER))
    print(f"RESULT pytorch lockstep steps={args.steps} test_accuracy={correct / (TEST_ITER * BATCH):.4f}", flush=True)
    if not args.no_reference:  # the float64 run's pixels are the same float32 values (k/256 is exact in both)
        train(model_from(start, torch.float64), train_x, train_y, args.steps, "REFERENCE float64", os.path.join(args.dir, "float64_step1.safetensors"))


if __name__ == "__main__":
    main()
