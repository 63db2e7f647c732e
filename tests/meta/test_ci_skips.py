"""A real pytest run of a skipping test: passes locally, fails with CI=true, reason shown."""
import os
import subprocess
import sys

from autograder.settings import CHECKOUT

SKIPPING = '''
import pytest

def test_needs_docker():
    pytest.skip("Docker is not reachable here")

@pytest.mark.xfail(reason="known")
def test_known_bug():
    assert False
'''


def run_pytest(tmp_path, ci):
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(CHECKOUT)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "tests.ci_skips",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c",
                           os.devnull, str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_skip_fails_the_run_under_ci_and_keeps_its_reason(tmp_path):
    local = run_pytest(tmp_path, ci="")
    assert local.returncode == 0, local.stdout
    assert "1 skipped, 1 xfailed" in local.stdout
    under_ci = run_pytest(tmp_path, ci="true")
    assert under_ci.returncode == 1, under_ci.stdout
    assert "1 failed, 1 xfailed" in under_ci.stdout
    assert "skipped with CI=true, which counts as a failure: Skipped: Docker is not " \
           "reachable here" in under_ci.stdout
