#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine with Swift lacks: OpenBLAS (+ pkg-config), and the
# Python side (CPU torch, numpy, safetensors, pytest, the tools package). Idempotent: skips what is present.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_apt=()
dpkg -s libopenblas-dev >/dev/null 2>&1 || need_apt+=(libopenblas-dev)
# espeak-ng's C library: the synthetic corpus (tools/mimetic_tools/corpus) speaks through it.
dpkg -s libespeak-ng1 >/dev/null 2>&1 || need_apt+=(libespeak-ng1 espeak-ng-data)
# Offscreen OpenGL for the renderer (tools/mimetic_tools/render): Mesa's EGL with llvmpipe.
dpkg -s libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null 2>&1 || need_apt+=(libegl1 libegl-mesa0 libgl1-mesa-dri)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import torch, numpy, safetensors, pytest, transformers" >/dev/null 2>&1; then
    echo "setup: pip install torch (CPU build), numpy, safetensors, pytest, transformers"
    # The +cpu build (~190 MB); plain 'torch' would pull CUDA packages (several GB).
    # transformers: only to cross-check the reference wav2vec 2.0 against HF's (no downloads).
    "$PYTHON" -m pip install -q "torch==2.13.0+cpu" numpy safetensors pytest transformers
fi
# The tools package, editable (tests and `python -m mimetic_tools...` use this checkout), with the
# renderer's extra (Pillow, moderngl, imageio-ffmpeg: `make demo`); torch stays the CPU build above.
TOOLS_DIR="$(cd "$(dirname "$0")/../tools" && pwd)"
if ! "$PYTHON" -c "import sys, mimetic_tools, moderngl, PIL, imageio_ffmpeg, scipy
sys.exit(not mimetic_tools.__file__.startswith(sys.argv[1]))" "$TOOLS_DIR/" >/dev/null 2>&1; then
    echo "setup: pip install -e './tools[render]'"
    "$PYTHON" -m pip install -q -e "$TOOLS_DIR[render]"
fi
echo "setup: ok"
