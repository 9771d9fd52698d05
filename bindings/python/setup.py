"""Build hook of the ``mimetic`` wheel: the wheel carries ``libMimetic.so``, so that ``import mimetic``
works after ``pip install`` with no environment variable.

``build_py`` builds the library from the checkout this package sits in (``make lib``: Swift 6, the
Swift runtime linked in, only ``mimetic_*`` exported), strips it and puts it next to ``__init__.py``
in the wheel. ``MIMETIC_PREBUILT_LIBRARY=/path/libMimetic.so`` uses an existing build instead. The
wheel is tagged for the platform (``py3-none-linux_x86_64``): it holds native code, but no CPython
extension, so any Python 3 on that platform can use it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LIBRARY_NAME = "libMimetic.dylib" if sys.platform == "darwin" else "libMimetic.so"


def built_library() -> Path:
    """The library to bundle: a prebuilt one, or the checkout's release build (built now)."""
    prebuilt = os.environ.get("MIMETIC_PREBUILT_LIBRARY")
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file():
            raise SystemExit(f"MIMETIC_PREBUILT_LIBRARY={prebuilt}: no such file")
        return path
    if not (REPO / "Package.swift").is_file():
        raise SystemExit("building the mimetic wheel needs the Mimetic source tree around bindings/python "
                         "(it builds libMimetic with Swift 6), or MIMETIC_PREBUILT_LIBRARY=/path/to/libMimetic.so")
    if shutil.which("swift") is None:
        raise SystemExit("building the mimetic wheel builds libMimetic, which needs Swift 6 (swift.org/install), "
                         "or set MIMETIC_PREBUILT_LIBRARY=/path/to/libMimetic.so")
    print("mimetic: building libMimetic (make lib)", flush=True)
    subprocess.run(["make", "-C", str(REPO), "lib"], check=True)
    return REPO / ".build-release" / "release" / LIBRARY_NAME


class BuildWithLibrary(build_py):
    def run(self) -> None:
        super().run()
        source = built_library()
        target = Path(self.build_lib) / "mimetic" / LIBRARY_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        strip = shutil.which("strip")
        if strip and sys.platform.startswith("linux"):
            subprocess.run([strip, "--strip-unneeded", str(target)], check=True)
        os.chmod(target, 0o755)
        print(f"mimetic: bundled {source} as {target} ({target.stat().st_size} bytes)", flush=True)


class NativeDistribution(Distribution):
    """Holds native code (the library), so the wheel is a platform wheel installed to platlib."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):  # type: ignore[no-untyped-def]
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=NativeDistribution, cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel})
