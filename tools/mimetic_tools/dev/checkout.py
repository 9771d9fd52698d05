"""Where things are: the repository checkout (the developer tools read and write its Tests/Fixtures
and find the Swift build in its .build) and the full-size model cache of parity_full and mimetic-bench."""
from __future__ import annotations

import os
from pathlib import Path


def repository_root() -> str:
    """The checkout this package was installed from (`pip install -e ./tools`), else the current
    directory or the nearest one above it with a Package.swift."""
    here = Path(__file__).resolve().parents[3]
    if (here / "Package.swift").is_file():
        return str(here)
    cwd = Path.cwd().resolve()
    for d in (cwd, *cwd.parents):
        if (d / "Package.swift").is_file():
            return str(d)
    return os.getcwd()


# Full-size converted models, keyed by case and seed (parity_full writes them, mimetic-bench reuses them).
MODEL_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mimetic-bench")
