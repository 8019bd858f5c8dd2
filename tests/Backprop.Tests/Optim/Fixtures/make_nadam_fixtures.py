"""Generates the PyTorch 1.13 reference weights pasted into NAdamTests.cs (run once; tests never run Python).

    /usr/bin/python3 tests/Backprop.Tests/Optim/Fixtures/make_nadam_fixtures.py

torch.optim.NAdam on OptimTestHelpers' 3-element parameter and per-step gradients, three steps, for PyTorch's defaults
with weight decay, and for Keras 3's Nadam settings (momentum_decay 1, i.e. mu_t = beta1*(1 - 0.5*0.96^t), eps 1e-7).
PyTorch 1.13 computes mu_product_next as mu_product * mu * mu_next, counting mu twice (later releases and Keras use
mu_product * mu_next); the test reproduces that slip in a plain loop to show it is the only difference.
"""
import torch

W0 = [1.0, -2.0, 0.5]
GRADS = [[0.5, -1.0, 2.0], [-0.25, 0.75, 1.5], [1.0, 0.5, -0.5]]


def run(**kwargs):
    p = torch.nn.Parameter(torch.tensor(W0, dtype=torch.float32))
    opt = torch.optim.NAdam([p], **kwargs)
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
    return p.detach().tolist()


def doubles(name, values):
    return f"    private static readonly double[] {name} = [{', '.join(repr(v) for v in values)}];"


print(f"    // torch {torch.__version__}")
print(doubles("TorchDefaultsWithDecay", run(lr=0.1, weight_decay=0.05)))
print(doubles("TorchKerasSettings", run(lr=0.1, eps=1e-7, momentum_decay=1.0)))
