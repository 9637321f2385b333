"""Lab self-checks (ctest `lab_selfcheck`, run by tests/lab/run-selfcheck).

They need root: the lab creates network namespaces. run-selfcheck exits 77
(ctest's SKIP_RETURN_CODE) before pytest starts when privileges are
missing, so an unprivileged `ctest` reports the test as skipped.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CONFORMANCE = os.path.join(ROOT, "conformance")
sys.path.insert(0, CONFORMANCE)

import pytest  # noqa: E402

from nbtlab import lab  # noqa: E402


def pytest_collection_modifyitems(config, items):
    msg = lab.missing_privileges()
    if msg:
        skip = pytest.mark.skip(reason=msg)
        for item in items:
            if "needs_root" in item.keywords:
                item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_root: builds a lab")


@pytest.fixture(scope="session")
def outdir():
    """Where reports of the self-check runs go (kept for inspection)."""
    base = os.environ.get("NB_LAB_OUT") or os.path.join(
        ROOT, "build", "lab-selfcheck")
    os.makedirs(base, exist_ok=True)
    return base
