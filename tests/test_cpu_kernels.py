"""The core suite passes whatever SIMD kernels NumPy picks, not only this machine's.

NumPy chooses AVX-512, AVX2 or baseline kernels for some functions (np.power, exp, …)
by CPU, and they round the last bit differently. ``NPY_DISABLE_CPU_FEATURES`` makes it
use the kernels of an older x86-64 here, so the optimizer and landscape tests run again,
in a fresh interpreter, as they would on a machine without AVX-512 and one without AVX2
either. On other CPUs the names are unknown and harmless: the rerun then repeats the
default kernels.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_TESTS = ("tests/optimizers", "tests/landscapes")

#: What the rerun switches off: (NPY_DISABLE_CPU_FEATURES, dispatch targets gone on x86-64).
#: NumPy 2.4 groups kernels as X86_V3 (AVX2, FMA3) and X86_V4 (AVX-512); older releases
#: name AVX512F, AVX512_SKX, AVX2 and FMA3 themselves, so both spellings are listed.
_AVX512 = "AVX512F AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR X86_V4"
SETTINGS = {
    "no-avx512": (_AVX512, {"X86_V4", "AVX512_ICL", "AVX512_SPR", "AVX512F", "AVX512_SKX"}),
    "no-avx2": (
        f"{_AVX512} X86_V3 AVX2 FMA3",
        {"X86_V4", "AVX512_ICL", "AVX512_SPR", "AVX512F", "AVX512_SKX", "X86_V3", "AVX2"},
    ),
}

_ACTIVE_TARGETS = (
    "from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__; "
    "print(' '.join(t for t in __cpu_dispatch__ if __cpu_features__.get(t)))"
)


@pytest.fixture(scope="module")
def reruns() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Both reruns started at once, each in its own interpreter: on two cores they take
    the time of one (the suite's other tests wait behind them either way)."""
    started = {
        setting: subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CORE_TESTS],
            cwd=ROOT,
            env={**os.environ, "NPY_DISABLE_CPU_FEATURES": disabled},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for setting, (disabled, _) in SETTINGS.items()
    }
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow
@pytest.mark.parametrize("setting", SETTINGS)
def test_core_suite_passes_with_older_kernels(
    setting: str, reruns: dict[str, subprocess.Popen[str]]
) -> None:
    disabled, gone = SETTINGS[setting]
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": disabled}
    active = subprocess.run(
        [sys.executable, "-c", _ACTIVE_TARGETS], env=env, capture_output=True, text=True
    )
    assert active.returncode == 0, active.stderr
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert not gone & set(active.stdout.split()), f"NumPy still dispatches {active.stdout}"
    stdout, stderr = reruns[setting].communicate(timeout=280)
    summary = stdout.strip().splitlines()[-1:] or [stderr[-2000:]]
    assert reruns[setting].returncode == 0, f"{setting}: {summary[0]}\n{stdout[-4000:]}"
    assert " passed" in summary[0] and "failed" not in summary[0], summary[0]
