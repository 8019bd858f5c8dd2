"""Writes KerasLayerFixtures.cs: PyTorch 1.13 reference outputs for the Keras layers built on transposed, depthwise and
separable convolutions and on bilinear up-sampling (run once; tests never run Python).

    /usr/bin/python3 tests/Backprop.Tests/Keras/Fixtures/make_keras_layer_fixtures.py

Everything is in Keras's layouts: x (N, H, W, C), kernels as Keras stores them, y (N, OH, OW, F). The references follow
TensorFlow's definitions, written independently of the C# code:
- Conv2DTranspose: the gradient, with respect to its input, of a conv2d over an input of Keras's output size
  (deconv_output_length) padded as TensorFlow pads ("same": max((in-1)*s + k - out, 0), half before, the rest after).
- DepthwiseConv2D / SeparableConv2D: conv2d with groups = channels (output channel c*m + q reads channel c), "same"
  padding TensorFlow's (odd extra at the bottom/right); separable adds a 1x1 conv with the bias.
- UpSampling2D bilinear: interpolate(align_corners=False), TensorFlow 2's half-pixel-centre resize.
"""
import os
import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(17)


def rand(*shape):
    return torch.tensor(rng.normal(size=shape), dtype=torch.float32)


def tf_pad(size, k, s, out_size):
    total = max((out_size - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def same_pads(x_nchw, k, s):
    h, w = x_nchw.shape[2], x_nchw.shape[3]
    t, b = tf_pad(h, k[0], s[0], -(-h // s[0]))
    l, r = tf_pad(w, k[1], s[1], -(-w // s[1]))
    return F.pad(x_nchw, (l, r, t, b))


def deconv_length(n, k, s, padding, op):
    if op is None:
        return n * s + max(k - s, 0) if padding == "valid" else n * s
    pad = 0 if padding == "valid" else k // 2
    return (n - 1) * s + k - 2 * pad + op


def conv_transpose(x, kernel, bias, s, padding, op):
    # x (N, H, W, C); kernel (kh, kw, F, C)
    n, h, w, c = x.shape
    kh, kw, f, _ = kernel.shape
    oh = deconv_length(h, kh, s[0], padding, None if op is None else op[0])
    ow = deconv_length(w, kw, s[1], padding, None if op is None else op[1])
    z = torch.zeros(n, f, oh, ow, requires_grad=True)
    zp = z
    if padding == "same":
        t, b = tf_pad(oh, kh, s[0], h)   # the forward conv maps oh back to h
        l, r = tf_pad(ow, kw, s[1], w)
        zp = F.pad(z, (l, r, t, b))
    y = F.conv2d(zp, kernel.permute(3, 2, 0, 1).contiguous(), stride=s)
    assert y.shape[2:] == (h, w), (y.shape, h, w)
    y.backward(x.permute(0, 3, 1, 2))
    out = z.grad + bias.view(1, f, 1, 1)
    return out.permute(0, 2, 3, 1)


def depthwise(x, kernel, s, padding):
    kh, kw, c, m = kernel.shape
    xc = x.permute(0, 3, 1, 2)
    if padding == "same":
        xc = same_pads(xc, (kh, kw), s)
    wt = kernel.permute(2, 3, 0, 1).reshape(c * m, 1, kh, kw)
    return F.conv2d(xc, wt, stride=s, groups=c)


def floats(t):
    return "[" + ", ".join(repr(float(np.float32(v))) + "f" for v in np.asarray(t.detach()).flatten()) + "]"


def ints(values):
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


cases = []  # name, x, [weights], y


def add(name, x, weights, y):
    cases.append((name, x, weights, y))


# Conv2DTranspose(filters, kernel, strides, padding, output_padding)
for name, shape, f, k, s, padding, op in [
    ("TransposeValidK3S2", (2, 3, 4, 2), 3, (3, 3), (2, 2), "valid", None),
    ("TransposeSameK4S2", (1, 3, 3, 2), 2, (4, 4), (2, 2), "same", None),
    ("TransposeSameK3S2OutputPadding0", (1, 3, 4, 2), 2, (3, 3), (2, 2), "same", (0, 0)),
    ("TransposeValidK1S2", (1, 2, 3, 1), 2, (1, 1), (2, 2), "valid", None),
    ("TransposeSameK5S1Rect", (1, 4, 3, 2), 2, (5, 3), (1, 1), "same", None),
]:
    x = rand(*shape)
    kernel = rand(k[0], k[1], f, shape[3])
    bias = rand(f)
    add(name, x, [kernel, bias], conv_transpose(x, kernel, bias, s, padding, op))

# DepthwiseConv2D(kernel, strides, padding, depth_multiplier)
for name, shape, k, s, padding, m in [
    ("DepthwiseSameS2M2", (1, 5, 4, 3), (3, 3), (2, 2), "same", 2),
    ("DepthwiseValidM1", (2, 4, 4, 2), (2, 3), (1, 1), "valid", 1),
]:
    x = rand(*shape)
    kernel = rand(k[0], k[1], shape[3], m)
    bias = rand(shape[3] * m)
    y = depthwise(x, kernel, s, padding) + bias.view(1, -1, 1, 1)
    add(name, x, [kernel, bias], y.permute(0, 2, 3, 1))

# SeparableConv2D(filters, kernel, strides, padding, depth_multiplier)
for name, shape, f, k, s, padding, m in [
    ("SeparableSameS2M2", (1, 5, 5, 2), 3, (3, 3), (2, 2), "same", 2),
]:
    x = rand(*shape)
    dk = rand(k[0], k[1], shape[3], m)
    pk = rand(1, 1, shape[3] * m, f)
    bias = rand(f)
    y = F.conv2d(depthwise(x, dk, s, padding), pk.permute(3, 2, 0, 1).contiguous(), bias)
    add(name, x, [dk, pk, bias], y.permute(0, 2, 3, 1))

# UpSampling2D(size, interpolation)
for name, shape, size, mode in [
    ("UpSamplingBilinear2x3", (1, 3, 4, 2), (2, 3), "bilinear"),
    ("UpSamplingNearest2x2", (2, 2, 3, 2), (2, 2), "nearest"),
]:
    x = rand(*shape)
    y = F.interpolate(x.permute(0, 3, 1, 2), scale_factor=size, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))
    add(name, x, [], y.permute(0, 2, 3, 1))

lines = [
    "// Generated by make_keras_layer_fixtures.py with torch " + torch.__version__ + "; do not edit.",
    "namespace Backprop.Tests.Keras;",
    "",
    "internal sealed record KerasLayerCase(string Name, int[] InputShape, float[] Input, int[][] WeightShapes, float[][] Weights,",
    "    int[] OutputShape, float[] Output);",
    "",
    "internal static class KerasLayerFixtures",
    "{",
    "    public static readonly KerasLayerCase[] Cases =",
    "    [",
]
for name, x, weights, y in cases:
    ws = ", ".join(ints(w.shape) for w in weights)
    wv = ", ".join(floats(w) for w in weights)
    lines.append(f'        new("{name}", {ints(x.shape)}, {floats(x)},')
    lines.append(f"            [{ws}],")
    lines.append(f"            [{wv}],")
    lines.append(f"            {ints(y.shape)}, {floats(y)}),")
lines += ["    ];", "", "    public static KerasLayerCase Get(string name) => Cases.Single(c => c.Name == name);", "}", ""]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "KerasLayerFixtures.cs"), "w") as out:
    out.write("\n".join(lines))
