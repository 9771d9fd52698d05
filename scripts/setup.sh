#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine with Swift lacks, for one purpose (a profile):
#
#   scripts/setup.sh demo      # OpenBLAS, pkg-config, Mesa's EGL; Python: numpy, safetensors, the tools'
#                              #   renderer (Pillow, moderngl, imageio-ffmpeg). What `make demo` needs.
#   scripts/setup.sh convert   # demo + CPU PyTorch (the converter reads PyTorch checkpoints)
#   scripts/setup.sh train     # convert + scipy, espeak-ng and flite (the synthetic corpus), matplotlib
#   scripts/setup.sh test      # everything (the default): train + transformers, pytest, mypy, tqdm, Ray, pocketsphinx, cmake.
#                              #   `make test`, CI
#
# Python packages go into a virtual environment under the checkout, .venv (made with
# --system-site-packages, so what the machine already has is reused, and nothing is installed into
# the system Python). PYTHON=/path/to/python installs into that interpreter's environment instead,
# and says so. Idempotent: skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${1:-test}"
case "$PROFILE" in demo|convert|train|test) ;; *) echo "setup: unknown profile '$PROFILE' (demo, convert, train, test)" >&2; exit 2 ;; esac
at_least() {  # at_least convert: true when the profile includes convert's packages
    local order=(demo convert train test) want="$1" i j w
    for i in "${!order[@]}"; do [ "${order[$i]}" = "$PROFILE" ] && j=$i; [ "${order[$i]}" = "$want" ] && w=$i; done
    [ "$j" -ge "$w" ]
}

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need_apt=()
dpkg -s libopenblas-dev >/dev/null 2>&1 || need_apt+=(libopenblas-dev)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
# Offscreen OpenGL for the renderer (tools/mimetic_tools/render): Mesa's EGL with llvmpipe.
dpkg -s libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null 2>&1 || need_apt+=(libegl1 libegl-mesa0 libgl1-mesa-dri)
if at_least train; then
    # espeak-ng's C library: the synthetic corpus (tools/mimetic_tools/corpus) speaks through it.
    dpkg -s libespeak-ng1 >/dev/null 2>&1 || need_apt+=(libespeak-ng1 espeak-ng-data)
    # flite: the corpus's second speech engine (mimetic-make-corpus --engines espeak,flite).
    command -v flite >/dev/null 2>&1 || need_apt+=(flite)
fi
if at_least test; then
    command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
fi
if [ -z "${PYTHON:-}" ] && ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then need_apt+=(python3-venv); fi
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup ($PROFILE): apt-get install ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ -n "${PYTHON:-}" ] && [ "$PYTHON" != ".venv/bin/python" ]; then
    echo "setup ($PROFILE): installing Python packages into $("$PYTHON" -c 'import sys; print(sys.prefix)') (PYTHON=$PYTHON, as asked)"
else
    PYTHON=.venv/bin/python
    if [ ! -x "$PYTHON" ]; then
        echo "setup ($PROFILE): python3 -m venv --system-site-packages .venv"
        python3 -m venv --system-site-packages .venv
    fi
fi

pip_install() {  # pip_install "import check" packages...
    local check="$1"; shift
    if ! "$PYTHON" -c "$check" >/dev/null 2>&1; then
        echo "setup ($PROFILE): pip install $*"
        "$PYTHON" -m pip install -q "$@"
    fi
}
pip_install "import numpy, safetensors" numpy safetensors
if at_least convert; then
    # The +cpu build (~190 MB); plain 'torch' would pull CUDA packages (several GB).
    pip_install "import torch" "torch==2.13.0+cpu"
fi
if at_least test; then
    # transformers: only to cross-check the reference wav2vec 2.0 against HF's (no downloads).
    # mypy: the Python binding's type hints are checked (--strict) by the tests.
    pip_install "import pytest, transformers, mypy" pytest transformers mypy
    # mimetic-bake's progress bar and its Ray engine (bindings/python/tests/test_bake.py runs both).
    pip_install "import tqdm, ray" tqdm "ray>=2"
    # mimetic-align (forced alignment of a take's transcript; bindings/python/tests/test_align.py).
    pip_install "import pocketsphinx" "pocketsphinx>=5"
fi
# The tools package, editable (the tests and `python -m mimetic_tools...` use this checkout), with
# the extras the profile needs; torch stays the CPU build above.
extras="render"
at_least convert && extras="$extras,torch"
at_least train && extras="$extras,corpus,plots"
at_least test && extras="$extras,test"
TOOLS_DIR="$PWD/tools"
check="import sys, mimetic_tools, moderngl, PIL, imageio_ffmpeg
sys.exit(not mimetic_tools.__file__.startswith(sys.argv[1]))"
at_least train && check="import scipy, matplotlib; $check"
at_least test && check="import pygltflib, trimesh; $check"
if ! "$PYTHON" -c "$check" "$TOOLS_DIR/" >/dev/null 2>&1; then
    echo "setup ($PROFILE): pip install -e './tools[$extras]'"
    "$PYTHON" -m pip install -q -e "$TOOLS_DIR[$extras]"
fi
echo "setup ($PROFILE): ok (Python: $PYTHON)"
