"""Stop early, with a clear message, on a Python that is too old."""

import sys

if sys.version_info < (3, 11):  # noqa: UP036 - run by any python3 before the venv exists
    sys.exit(f"aftersales needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
