"""Prints the reference numbers pasted into AnchorTests.cs, BoxCoderTests.cs and MatcherTests.cs.

Run once with PyTorch 1.13 / torchvision 0.14:  /usr/bin/python3 make_detection_fixtures.py
The py-faster-rcnn anchors are computed with numpy from the definitions in its generate_anchors.py
(+1 widths, ratio enumeration then scale enumeration, np.round = round half to even).
"""
import numpy as np
import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection._utils import BoxCoder, Matcher


def rows(t, fmt="{:.9g}f"):
    return "\n".join("    " + ", ".join(fmt.format(float(v)) for v in r) + "," for r in np.asarray(t).reshape(-1, 4))


def py_faster_rcnn_anchors(base_size=16, ratios=(0.5, 1, 2), scales=(8, 16, 32)):
    def whctrs(a):
        w, h = a[2] - a[0] + 1, a[3] - a[1] + 1
        return w, h, a[0] + 0.5 * (w - 1), a[1] + 0.5 * (h - 1)

    def mk(ws, hs, xc, yc):
        ws, hs = ws[:, None], hs[:, None]
        return np.hstack((xc - 0.5 * (ws - 1), yc - 0.5 * (hs - 1), xc + 0.5 * (ws - 1), yc + 0.5 * (hs - 1)))

    base = np.array([1, 1, base_size, base_size], dtype=np.float64) - 1
    w, h, xc, yc = whctrs(base)
    ratios = np.array(ratios, dtype=np.float64)
    ws = np.round(np.sqrt(w * h / ratios))
    hs = np.round(ws * ratios)
    ratio_anchors = mk(ws, hs, xc, yc)
    out = []
    for r in ratio_anchors:
        w, h, xc, yc = whctrs(r)
        out.append(mk(w * np.array(scales, dtype=np.float64), h * np.array(scales, dtype=np.float64), xc, yc))
    return np.vstack(out)


print("// py-faster-rcnn generate_anchors() defaults")
print(rows(py_faster_rcnn_anchors(), "{:.0f}"))
print("// py-faster-rcnn base 8, ratios (0.25, 1), scales (2, 3)")
print(rows(py_faster_rcnn_anchors(8, (0.25, 1), (2, 3)), "{:.9g}"))

gen = AnchorGenerator(sizes=((32, 64, 128),), aspect_ratios=((0.5, 1.0, 2.0),))
images = ImageList(torch.zeros(1, 3, 48, 64), [(48, 64)])
feature = torch.zeros(1, 8, 3, 4)     # 48 / 3 = 16, 64 / 4 = 16
anchors = gen(images, [feature])[0]
print("// torchvision cell anchors sizes (32,64,128) ratios (0.5,1,2)")
print(rows(gen.cell_anchors[0], "{:.0f}"))
print("// torchvision anchors 3x4 grid stride 16:", tuple(anchors.shape))
print(rows(anchors, "{:.0f}"))

gen2 = AnchorGenerator(sizes=((20, 45),), aspect_ratios=((0.3, 1.7),))
images2 = ImageList(torch.zeros(1, 3, 16, 24), [(16, 24)])
anchors2 = gen2(images2, [torch.zeros(1, 1, 2, 3)])[0]  # strides 8, 8
print("// torchvision sizes (20,45) ratios (0.3,1.7) 2x3 grid stride 8:", tuple(anchors2.shape))
print(rows(anchors2, "{:.0f}"))

proposals = torch.tensor([[10., 20., 50., 60.], [0., 0., 15.5, 7.25], [100., 40., 130., 200.]])
gt = torch.tensor([[12., 18., 55., 70.], [1., -2., 14., 9.], [90., 35., 140., 180.]])
for w in [(1., 1., 1., 1.), (10., 10., 5., 5.)]:
    coder = BoxCoder(w)
    print("// encode weights", w)
    print(rows(coder.encode_single(gt, proposals), "{:.9g}f"))
deltas = torch.tensor([[0.1, -0.2, 0.3, -0.4, 1.0, 2.0, 10.0, -10.0],
                       [-0.5, 0.25, 0.0, 0.7, 0.0, 0.0, 0.0, 0.0],
                       [2.0, -1.5, -3.0, 5.0, -0.01, 0.02, 0.5, 1e6]])
for w in [(1., 1., 1., 1.), (10., 10., 5., 5.)]:
    coder = BoxCoder(w)
    print("// decode_single weights", w)
    print(rows(coder.decode_single(deltas, proposals), "{:.9g}f"))

iou = torch.tensor([[0.1, 0.6, 0.75, 0.3, 0.0],
                    [0.2, 0.65, 0.2, 0.35, 0.0],
                    [0.3, 0.1, 0.7, 0.35, 0.0]])
for allow in (False, True):
    print("// matcher 0.7/0.3 allow", allow, Matcher(0.7, 0.3, allow)(iou.clone()).tolist())
