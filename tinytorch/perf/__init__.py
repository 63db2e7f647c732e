"""Modules 16-18: making TinyTorch fast (kernels), measuring it (benchmarking), shipping it (mlops)."""
