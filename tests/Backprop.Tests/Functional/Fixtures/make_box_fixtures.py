"""Generates the torchvision 0.14 reference numbers pasted into BoxOpsTests.cs (run once; tests never run Python).

    /usr/bin/python3 tests/Backprop.Tests/Functional/Fixtures/make_box_fixtures.py > /tmp/box_fixtures.cs.txt

Boxes are float32 (x1, y1, x2, y2) with positive sides (the NMS ones clustered around 8 centres); scores are a permutation of distinct values (no ties).
"""
import numpy as np
import torch
import torchvision
from torchvision.ops import box_iou, nms, batched_nms

rng = np.random.default_rng(20240612)


def boxes(n, extent, max_side):
    xy = rng.uniform(0, extent, size=(n, 2))
    wh = rng.uniform(1, max_side, size=(n, 2))
    return torch.tensor(np.concatenate([xy, xy + wh], axis=1), dtype=torch.float32)


def clustered_boxes(n, clusters, extent):
    """Boxes jittered around a few centres, so that NMS has real work to do."""
    centres = rng.uniform(20, extent - 20, size=(clusters, 2))
    pick = rng.integers(0, clusters, size=n)
    cxy = centres[pick] + rng.normal(0, 5, size=(n, 2))
    wh = rng.uniform(10, 30, size=(n, 2))
    return torch.tensor(np.concatenate([cxy - wh / 2, cxy + wh / 2], axis=1), dtype=torch.float32)


def distinct_scores(n):
    return torch.tensor(rng.permutation(n) / n + 0.5 / n, dtype=torch.float32)


def floats(name, t):
    vals = ", ".join(str(np.float32(v)) + "f" for v in t.flatten().tolist())
    return f"    private static readonly float[] {name} = [{vals}];"


def ints(name, t):
    return f"    private static readonly int[] {name} = [{', '.join(str(int(v)) for v in t.tolist())}];"


print(f"    // torch {torch.__version__}, torchvision {torchvision.__version__}, seed 20240612")
b1, b2 = boxes(12, 30, 30), boxes(9, 30, 30)
print(floats("IouBoxes1", b1))
print(floats("IouBoxes2", b2))
print(floats("IouExpected", box_iou(b1, b2)))

nb = clustered_boxes(80, 8, 100)
ns = distinct_scores(80)
print(floats("NmsBoxes", nb))
print(floats("NmsScores", ns))
for thr in (0.3, 0.5, 0.7):
    print(ints(f"NmsKeep{int(thr * 10):02d}", nms(nb, ns, thr)))

groups = torch.tensor(rng.integers(0, 3, size=80), dtype=torch.int64)
print(ints("BatchedGroups", groups))
print(ints("BatchedKeep05", batched_nms(nb, ns, groups, 0.5)))
