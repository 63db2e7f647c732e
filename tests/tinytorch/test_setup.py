"""Module 01: the environment report states this machine's facts; StudentInfo validates its fields."""

from __future__ import annotations

import os
import platform
import sys
import types

import numpy as np
import pytest

from tinytorch.core import setup
from tinytorch.core.setup import StudentInfo, environment_report


def test_report_states_this_machine():
    report = environment_report()
    assert report.python == platform.python_version()
    assert report.numpy == np.__version__
    assert report.cores == len(os.sched_getaffinity(0)) >= 1
    assert report.blas and report.blas != "unknown"
    text = str(report)
    assert all(field in text for field in ("python", "numpy", "blas", "cores", np.__version__))


def test_blas_comes_from_threadpoolctl_when_installed(monkeypatch):
    fake = types.ModuleType("threadpoolctl")
    fake.threadpool_info = lambda: [
        {"user_api": "openmp", "internal_api": "openmp", "version": None, "num_threads": 8},
        {"user_api": "blas", "internal_api": "openblas", "version": "0.3.27", "num_threads": 2},
    ]
    monkeypatch.setitem(sys.modules, "threadpoolctl", fake)
    assert setup.blas_info() == "openblas 0.3.27 (2 threads)"


def test_blas_falls_back_to_numpys_build_configuration(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails as if not installed
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    assert setup.blas_info().startswith(blas)


def test_student_info_validates_and_serialises():
    info = StudentInfo("Ada Lovelace", "ada@example.org", "s123")
    assert info.to_dict() == {"name": "Ada Lovelace", "email": "ada@example.org", "student_id": "s123"}
    with pytest.raises(ValueError, match="name"):
        StudentInfo("  ", "ada@example.org")
    with pytest.raises(ValueError, match="not-an-email"):
        StudentInfo("Ada", "not-an-email")
