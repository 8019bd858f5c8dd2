"""Prints which BLAS the peer's numpy and PyTorch load and which kernel family it runs (threadpoolctl).

Run it with the peer's own environment: this machine sets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE, which hold OpenBLAS
to its AVX2 (Haswell) kernels; the bench scripts unset both for the peer's commands only, so OpenBLAS picks the
widest kernels the CPU has.
"""
import numpy  # noqa: F401  (loads the BLAS numpy uses)
import torch  # noqa: F401  (and the one PyTorch uses)
from threadpoolctl import threadpool_info

seen = set()
for pool in threadpool_info():
    if pool.get("user_api") != "blas":
        continue
    key = (pool.get("filepath"), pool.get("architecture"))
    if key in seen:
        continue
    seen.add(key)
    print(f"peer BLAS: {pool.get('internal_api')} {pool.get('version')}, kernels {pool.get('architecture')}, "
          f"threading {pool.get('threading_layer')}, {pool.get('filepath')}")
if not seen:
    print("peer BLAS: threadpoolctl found no BLAS library loaded")
