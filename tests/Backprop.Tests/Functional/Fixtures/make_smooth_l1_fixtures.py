"""Generates the PyTorch 1.13 reference numbers pasted into SmoothL1Tests.cs (run once; tests never run Python).

    /usr/bin/python3 tests/Backprop.Tests/Functional/Fixtures/make_smooth_l1_fixtures.py

torch.nn.functional.smooth_l1_loss with beta = 1/9 (py-faster-rcnn's sigma = 3) and each reduction, plus the gradient of
the sum with respect to the input. Differences span both sides of beta.
"""
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(9)
x = torch.tensor(rng.normal(0, 0.08, size=(3, 4)), dtype=torch.float32, requires_grad=True)
t = torch.tensor(rng.normal(0, 0.08, size=(3, 4)), dtype=torch.float32)
beta = 1.0 / 9.0


def floats(name, values):
    return f"    private static readonly float[] {name} = [{', '.join(str(np.float32(v)) + 'f' for v in values)}];"


print(f"    // torch {torch.__version__}, seed 9, beta = 1/9")
print(floats("Input", x.detach().flatten().tolist()))
print(floats("Target", t.flatten().tolist()))
print(floats("ExpectedNone", F.smooth_l1_loss(x, t, reduction="none", beta=beta).detach().flatten().tolist()))
print(f"    private const float ExpectedSum = {np.float32(F.smooth_l1_loss(x, t, reduction='sum', beta=beta).item())}f;")
print(f"    private const float ExpectedMean = {np.float32(F.smooth_l1_loss(x, t, reduction='mean', beta=beta).item())}f;")
F.smooth_l1_loss(x, t, reduction="sum", beta=beta).backward()
print(floats("ExpectedSumGradient", x.grad.flatten().tolist()))
