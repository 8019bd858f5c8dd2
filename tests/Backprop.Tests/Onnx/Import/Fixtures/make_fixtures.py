"""Writes the ONNX import fixtures with PyTorch 1.13's torch.onnx.export (run once: /usr/bin/python3 make_fixtures.py).
/usr/bin/python3 make_fixtures.py NAME... writes only the named fixtures (the others' bytes stay as committed).

For each net: <name>.onnx, and <name>.io.bin = the fixed input and PyTorch's output as
little-endian: int32 rank, int32 dims..., float32 values (input first, then each output).
Channel counts are small so the files stay small.
"""
import struct
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1234)


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 5)
        self.conv2 = nn.Conv2d(4, 8, 5)
        self.fc1 = nn.Linear(8 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


class LeNetView(LeNet):
    """LeNet flattened by x.view(x.size(0), -1): exported with a dynamic batch as Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.layer1 = Block(8, 8, 1)
        self.layer2 = Block(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class UpNet(nn.Module):
    """Encoder-decoder with ConvTranspose, sigmoid output, a concat skip and ceil-mode average pooling."""
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(2, 6, 3, 2, 1)
        self.up = nn.ConvTranspose2d(6, 4, 4, 2, 1)
        self.up2 = nn.ConvTranspose2d(6, 3, 3, 1, 0, output_padding=0)
        self.head = nn.Conv2d(4 + 2, 2, 1)

    def forward(self, x):
        h = F.leaky_relu(self.enc(x), 0.1)
        u = torch.tanh(self.up(h))
        y = self.head(torch.cat([u, x], 1))
        z = F.avg_pool2d(self.up2(h), 3, 2, 1, ceil_mode=True, count_include_pad=False)
        y = torch.sigmoid(y) + torch.clamp(y, -0.5, 0.5)
        return torch.cat([torch.flatten(y, 1), torch.flatten(z, 1)], 1)


class Variants(nn.Module):
    """Attribute variants: asymmetric Pad (opset < 11 only: later opsets export F.pad through Shape arithmetic), ceil-mode
    MaxPool, AvgPool counting pads (exported as Pad + AveragePool), ConvTranspose with output_padding, grouped dilated
    Conv, Gemm with alpha and beta, MatMul, Transpose, Reshape, Softmax on a middle axis, Sub/Div/Mul broadcasting, Clip,
    LogSoftmax on axis 0, and two graph outputs."""
    def __init__(self, pad):
        super().__init__()
        self.pad = pad
        self.conv = nn.Conv2d(4, 4, 3, 1, 2, dilation=2, groups=2)
        self.up = nn.ConvTranspose2d(4, 2, 3, 2, 1, output_padding=1)
        self.w = nn.Parameter(torch.randn(8, 6) * 0.3)
        self.b = nn.Parameter(torch.randn(6) * 0.1)
        self.scale = nn.Parameter(torch.rand(1, 2, 1, 1) + 0.5)

    def forward(self, x):
        h = F.pad(x, (1, 0, 2, 1)) if self.pad else x
        h = F.max_pool2d(h, 3, 2, 1, ceil_mode=True)
        h = F.avg_pool2d(h, 3, 1, 1, count_include_pad=True)
        h = torch.tanh(self.conv(h))
        u = (self.up(h) - 0.1) / self.scale * 2.0
        s = torch.softmax(u, dim=1)
        p = F.adaptive_avg_pool2d(s, 1).reshape(-1, 2)
        g = torch.addmm(self.b, torch.cat([p, p, p, p], 1), self.w, beta=0.5, alpha=2.0)
        m = torch.matmul(g.transpose(0, 1), g)
        return torch.clamp(m, -1.0, 1.0), torch.log_softmax(g, 0)


def write(name, model, shape, training=torch.onnx.TrainingMode.EVAL, opset=13, dynamic=True):
    model.eval()
    with torch.no_grad():
        for m in model.modules():  # non-trivial BatchNorm statistics
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(x)
    ys = y if isinstance(y, tuple) else (y,)
    outputs = ["output", "logp"][:len(ys)]
    torch.onnx.export(model, x, name + ".onnx", opset_version=opset, training=training, input_names=["input"], output_names=outputs,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}} if dynamic else None)
    with open(name + ".io.bin", "wb") as f:
        for t in (x,) + ys:
            t = t.contiguous()
            f.write(struct.pack("<i", t.dim()))
            f.write(struct.pack("<%di" % t.dim(), *t.shape))
            f.write(t.numpy().astype("<f4").tobytes())


FIXTURES = {
    "lenet": lambda: write("lenet", LeNet(), (2, 1, 28, 28)),
    # PRESERVE keeps BatchNormalization nodes (EVAL would fold them into the convolutions); the model is in eval mode.
    "resnet": lambda: write("resnet", SmallResNet(), (2, 3, 12, 12), torch.onnx.TrainingMode.PRESERVE),
    "upnet": lambda: write("upnet", UpNet(), (2, 2, 8, 8)),
    "variants9": lambda: write("variants9", Variants(pad=True), (2, 4, 9, 9), opset=9, dynamic=False),
    "variants13": lambda: write("variants13", Variants(pad=False), (2, 4, 9, 9), opset=13, dynamic=False),
    # Seeded on its own, so it does not depend on which fixtures were written before it.
    "lenet_view": lambda: (torch.manual_seed(5678), write("lenet_view", LeNetView(), (3, 1, 28, 28))),
}

# All in this order (the first five draw from one random stream, as when they were written), or only those named.
for name in sys.argv[1:] or FIXTURES:
    FIXTURES[name]()
