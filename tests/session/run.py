"""Run one of the session service's pytest files for ctest:
`run.py FILE [--lab]`. With --lab the file needs root (network namespaces);
without it the run exits 77, which ctest reports as skipped."""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "..", "..", "conformance")]

if "--lab" in sys.argv:
    sys.argv.remove("--lab")
    from nbtlab.lab import missing_privileges
    why = missing_privileges()
    if why:
        print(f"SKIP: {why}")
        sys.exit(77)

import pytest  # noqa: E402

sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-rs", sys.argv[1]]
                     + sys.argv[2:]))
