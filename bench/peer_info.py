#!/usr/bin/env python3
"""One line naming what the peer runs on: the PyTorch version, ATen's CPU capability (the SIMD level of its own
kernels) and the BLAS threadpoolctl finds loaded, with the kernel family it picked (OpenBLAS's "architecture").
Run it with the peer's environment (bench scripts unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the peer only)."""
import torch

torch.mm(torch.rand(8, 8), torch.rand(8, 8))  # loads the BLAS torch calls
capability = next((line.split(":", 1)[1].strip() for line in torch.__config__.show().splitlines()
                   if "CPU capability usage" in line), "unknown")
try:
    from threadpoolctl import threadpool_info
    blas = [f"{i.get('internal_api')} {i.get('version')} (kernels {i.get('architecture', '?')}, {i.get('threading_layer', '?')})"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    blas_text = ", ".join(blas) or "none found"
except ImportError:
    blas_text = "unknown (install python3-threadpoolctl)"
print(f"peer: PyTorch {torch.__version__}, ATen CPU capability {capability}, BLAS {blas_text}")
