"""The peer side of bench/kernels/run.sh: numpy (OpenBLAS) SGEMM, PyTorch convolution forward+backward and PyTorch
LeNet inference, printed as "name<TAB>median_ms" lines (args: REPEATS [gemm|conv|all|inference] [torch threads]) with
the same names as Backprop.Bench's quick timings ("all" leaves out inference)."""
import sys, time
import numpy as np
import torch


def report(name, body, repeats):
    start = time.perf_counter()
    i = 0
    while i < 3 or time.perf_counter() - start < 0.3:
        body(); i += 1
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); body(); times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"{name}\t{times[len(times) // 2]:.4f}", flush=True)


def gemm(name, m, n, k, trans_b, repeats):
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if trans_b else (k, n)).astype(np.float32)
    c = np.empty((m, n), np.float32)
    bb = b.T if trans_b else b
    report(name, lambda: np.matmul(a, bb, out=c), repeats)


def conv(name, n, c, h, w, k, kh, pad, repeats):
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(n, c, h, w, generator=g) * 2 - 1).requires_grad_()
    weight = (torch.rand(k, c, kh, kh, generator=g) * 2 - 1).requires_grad_()
    bias = (torch.rand(k, generator=g) * 2 - 1).requires_grad_()
    oh = h + 2 * pad - kh + 1
    dy = torch.rand(n, k, oh, oh, generator=g) * 2 - 1

    def body():
        y = torch.nn.functional.conv2d(x, weight, bias, padding=pad)
        dx, dw, db = torch.autograd.grad(y, (x, weight, bias), dy)
    report(name, body, repeats)


def lenet_inference(name, batch, repeats):
    torch.manual_seed(1)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2),
                          nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10)).eval()
    x = torch.rand(batch, 1, 28, 28)

    def body():
        with torch.no_grad():
            model(x)
    report(name, body, repeats)


repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 11
what = sys.argv[2] if len(sys.argv) > 2 else "all"
if len(sys.argv) > 3:
    torch.set_num_threads(int(sys.argv[3]))  # PyTorch intra-op threads (its BLAS stays on OPENBLAS_NUM_THREADS)
if what in ("all", "gemm"):
    for s in (256, 512, 1024, 2048):
        gemm(f"gemm {s}x{s}x{s}", s, s, s, False, repeats)
    gemm("gemm 36864x20x25", 36864, 20, 25, False, repeats)
    gemm("gemm 64x500x800 NT", 64, 500, 800, True, repeats)
if what in ("all", "conv"):
    conv("conv lenet2 64x20x12x12 k50 5x5", 64, 20, 12, 12, 50, 5, 0, repeats)
    conv("conv vgg 8x64x56x56 k64 3x3 p1", 8, 64, 56, 56, 64, 3, 1, repeats)
    conv("conv 1x1 8x256x28x28 k64", 8, 256, 28, 28, 64, 1, 0, repeats)
    conv("conv lenet1 64x1x28x28 k20 5x5", 64, 1, 28, 28, 20, 5, 0, repeats)
if what == "inference":
    for batch in (64, 1000):
        lenet_inference(f"lenet inference b{batch}", batch, repeats)
