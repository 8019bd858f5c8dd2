# Sourced by the bench scripts: sets PEER_ENV, the command prefix that runs a Python peer (numpy, PyTorch) with its
# BLAS at its best, and prints which BLAS kernels that is. Needs PYTHON and python3-threadpoolctl.
#
# This machine's environment may set OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE, which hold OpenBLAS to AVX2 kernels: the
# peer runs without them (never tests or CI). OpenBLAS 0.3.21 (Debian 12) then detects the CPU itself, but it does
# not know every newer AVX-512 CPU and falls back to its SSE3 (Prescott) kernels on some Xeons, 5x slower on a
# 1024^3 product here; on such a CPU the peer is given the widest AVX-512 kernels OpenBLAS has, by name.
#
# With AVX2=1 (the scripts' --avx2), both sides run their AVX2 code instead: Backprop with .NET's AVX-512 support off
# (BP_ENV), PyTorch with ATen's AVX2 kernels, oneDNN capped at AVX2 and OpenBLAS's Haswell kernels.
peer_env_setup() {
  BP_ENV=(env)
  if [[ "${AVX2:-}" == 1 ]]; then
    BP_ENV=(env DOTNET_EnableAVX512=0)
    PEER_ENV=(env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 DNNL_MAX_CPU_ISA=AVX2)
    echo "AVX2 path on both sides: Backprop with DOTNET_EnableAVX512=0; PyTorch with ATEN_CPU_CAPABILITY=avx2, ONEDNN_MAX_CPU_ISA=AVX2, OPENBLAS_CORETYPE=Haswell"
    "${PEER_ENV[@]}" "$PYTHON" "$(dirname "${BASH_SOURCE[0]}")/blas_family.py"
    return
  fi
  PEER_ENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
  local probe='import numpy
from threadpoolctl import threadpool_info
print(next((p.get("architecture") or "" for p in threadpool_info() if p.get("internal_api") == "openblas"), ""))'
  local family flags best
  family=$("${PEER_ENV[@]}" "$PYTHON" -c "$probe" 2>/dev/null) || family=""
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  if [[ -n "$family" && "$flags" == *" avx512f "* && ! "$family" =~ ^(SkylakeX|Cooperlake|SapphireRapids)$ ]]; then
    best=SkylakeX
    [[ "$flags" == *" avx512_bf16 "* ]] && best=Cooperlake
    echo "peer: OpenBLAS detected '$family' kernels on this AVX-512 CPU, which it does not recognise; the peer runs with OPENBLAS_CORETYPE=$best"
    PEER_ENV+=("OPENBLAS_CORETYPE=$best")
  fi
  "${PEER_ENV[@]}" "$PYTHON" "$(dirname "${BASH_SOURCE[0]}")/blas_family.py"
}
