#!/usr/bin/env bash
# Every test: Swift (XCTest), the C ABI test, and the Python tools (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
# The checkout's virtual environment (scripts/setup.sh makes it), unless PYTHON names another.
if [ -z "${PYTHON:-}" ]; then if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi; fi
case "$PYTHON" in /*) ;; */*) PYTHON="$PWD/$PYTHON" ;; esac   # steps below run it from other directories
export PYTHON

echo "== version: defined once in include/mimetic.h"
bash scripts/sync-version.sh --check

echo "== swift build + swift test"
swift build --build-tests
swift test 2>&1 | tee .build/swift-test.log
grep -q "with 0 failures" .build/swift-test.log

echo "== C ABI test (C99, -Wall -Wextra -Werror -pedantic)"
BIN="$(swift build --show-bin-path)"
mkdir -p .build/ctest
cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/C/test_model_abi.c \
   -L"$BIN" -lMimetic -Wl,-rpath,"$BIN" -o .build/ctest/test_model_abi
.build/ctest/test_model_abi Tests/Fixtures/faceformer_vocaset.model.safetensors
.build/ctest/test_model_abi Tests/Fixtures/mimic_conv.model.safetensors

cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/C/test_persona_abi.c \
   -L"$BIN" -lMimetic -lm -Wl,-rpath,"$BIN" -o .build/ctest/test_persona_abi
.build/ctest/test_persona_abi Tests/Fixtures/imitator_zeros.model.safetensors Tests/Fixtures/imitator_style.model.safetensors \
   Tests/Fixtures/mimic_conv.model.safetensors

echo "== Whole utterances and WAV files through the C ABI: mimetic_animate against the CLI, bit for bit, every family"
cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/C/test_animate_abi.c \
   -L"$BIN" -lMimetic -lm -Wl,-rpath,"$BIN" -o .build/ctest/test_animate_abi
.build/ctest/test_animate_abi "$BIN/mimetic" examples/audio/hello.wav Tests/Fixtures/faceformer_vocaset.model.safetensors \
   Tests/Fixtures/faceformer_biwi.model.safetensors Tests/Fixtures/imitator_style.model.safetensors \
   Tests/Fixtures/mimic_conv.model.safetensors Tests/Fixtures/realtime_imitator.model.safetensors models/default.safetensors

echo "== Retargeting through the C ABI: the ARKit-52 basis on the default model, controls, errors"
cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/C/test_retarget_abi.c \
   -L"$BIN" -lMimetic -lm -Wl,-rpath,"$BIN" -o .build/ctest/test_retarget_abi
.build/ctest/test_retarget_abi models/default.safetensors models/arkit52.safetensors models/samples/bumblebees.wav \
   Tests/Fixtures/faceformer_vocaset.model.safetensors

echo "== C stream ABI test against the release library (allocation and lock counting)"
swift build -c release --product Mimetic
RBIN="$(swift build -c release --show-bin-path)"
cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/C/test_stream_abi.c \
   -L"$RBIN" -lMimetic -lm -lpthread -ldl -Wl,-rpath,"$RBIN" -o .build/ctest/test_stream_abi
.build/ctest/test_stream_abi Tests/Fixtures/faceformer_vocaset.model.safetensors Tests/Fixtures/mimic_conv.model.safetensors \
    Tests/Fixtures/realtime_imitator.model.safetensors

echo "== Untrusted input through the C ABI (release library): snapshots, model files, sizes, the is_final contract, personas"
cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/C/test_untrusted_input.c \
   -L"$RBIN" -lMimetic -lm -Wl,-rpath,"$RBIN" -o .build/ctest/test_untrusted_input
.build/ctest/test_untrusted_input Tests/Fixtures/faceformer_vocaset.model.safetensors models/default.safetensors \
   Tests/Fixtures/imitator_style.model.safetensors Tests/Fuzz/regressions/model-huge-weights.safetensors

echo "== C++ binding (RAII header) and the engine-style example"
make cpp-test
make engine-demo DEMO_FLAGS=--fast

echo "== Packaging: self-contained release library, make install, CMake and pkg-config consumers"
bash scripts/test-packaging.sh

echo "== Godot 4 addon (GDExtension) loaded through its .gdextension file by a C host playing Godot, against the C ABI"
make godot-test

echo "== Python binding installs with pip (bundling libMimetic) and imports from the install, no environment"
rm -rf .build/pyinstall
"$PYTHON" -m pip install -q --no-deps --target .build/pyinstall ./bindings/python
ROOT="$PWD"
(cd /tmp && env -u MIMETIC_LIBRARY PYTHONPATH="$ROOT/.build/pyinstall" "$PYTHON" -c \
    "import mimetic, sys; m = mimetic.Model(sys.argv[1]); assert mimetic.library_path.startswith(sys.argv[2]), mimetic.library_path; print('installed binding:', mimetic.__file__, mimetic.library_path, m.info.family, m.info.num_vertices)" \
    "$ROOT/Tests/Fixtures/faceformer_vocaset.model.safetensors" "$ROOT/.build/pyinstall")
test -x .build/pyinstall/bin/mimetic-bake   # the console script the wheel installs
(cd /tmp && env -u MIMETIC_LIBRARY PYTHONPATH="$ROOT/.build/pyinstall" "$PYTHON" -m mimetic.bake --help) >.build/bake-help.txt
grep -q "usage: mimetic-bake" .build/bake-help.txt && echo "installed mimetic-bake answers --help"
test -x .build/pyinstall/bin/mimetic-align
(cd /tmp && env -u MIMETIC_LIBRARY PYTHONPATH="$ROOT/.build/pyinstall" "$PYTHON" -m mimetic.align --help) >.build/align-help.txt
grep -q "usage: mimetic-align" .build/align-help.txt && echo "installed mimetic-align answers --help"

echo "== Python binding types: mypy --strict over the package and a typed usage file"
"$PYTHON" -m mypy --strict bindings/python/mimetic bindings/python/tests/typecheck_usage.py

echo "== Python: tools and the ctypes binding (pytest)"
# The tests import mimetic_tools as an installed package: this checkout's, editable (deps: scripts/setup.sh).
"$PYTHON" -m pip install -q --no-deps --no-build-isolation -e ./tools
MIMETIC_LIBRARY="$BIN/libMimetic.so" MIMETIC_REQUIRE_STREAMING=1 MIMETIC_BIN="$BIN/mimetic" \
    "$PYTHON" -m pytest -q tools/tests bindings/python/tests

echo "== Reliability: the C ABI tests under AddressSanitizer, and a short fuzzing pass (make fuzz, FUZZ_SECONDS=20)"
bash scripts/sanitize.sh address
# A fixed seed: CI replays the committed seeds and regressions, then explores the same way each run;
# long exploratory runs (make fuzz FUZZ_SECONDS=N) take a random seed.
FUZZ_SECONDS="${FUZZ_SECONDS:-20}" FUZZ_SEED="${FUZZ_SEED:-1}" bash scripts/fuzz.sh
