#!/usr/bin/env bash
# The tests under the sanitizers, each build in its own scratch folder:
#   address   - the C ABI tests (model, persona, untrusted input) against an ASan libMimetic;
#               with --swift also the Swift tests (swift test --sanitize=address)
#   undefined - the same under UBSan: the C code (the small-product kernel, the C tests) is
#               instrumented; Swift has no -sanitize=undefined on Linux, and its own checks
#               (overflow, bounds, exclusivity) already trap in the debug build used here
#   thread    - several threads each running streams of one shared model (TSan)
# address and undefined also run the Godot addon's host harness (bindings/godot/tests) instrumented.
#   scripts/sanitize.sh [--swift] [address|undefined|thread ...]   (default: all three)
# test_stream_abi is not among them: it interposes malloc to count allocations, which a
# sanitizer's own allocator forbids; it runs in the plain test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG="${CLANG:-$(dirname "$(readlink -f "$(command -v swiftc)")")/clang}"
SWIFT_TESTS=0
if [ "${1:-}" = "--swift" ]; then SWIFT_TESTS=1; shift; fi
KINDS=("$@")
[ ${#KINDS[@]} -gt 0 ] || KINDS=(address undefined thread)
F_RT=Tests/Fixtures/realtime_imitator.model.safetensors
F_W2V=Tests/Fixtures/faceformer_vocaset.model.safetensors
for kind in "${KINDS[@]}"; do
    scratch=".build-$kind"
    echo "== $kind: libMimetic ($scratch)"
    if [ "$kind" = undefined ]; then sflags=(-Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=all); else sflags=(--sanitize="$kind"); fi
    swift build --scratch-path "$scratch" "${sflags[@]}" --product Mimetic
    BIN="$(swift build --scratch-path "$scratch" "${sflags[@]}" --show-bin-path)"
    out="$scratch/ctest"; mkdir -p "$out"
    cflags=(-std=c99 -g -O1 -Wall -Wextra -Werror -pedantic -Iinclude "-fsanitize=$kind" -fno-sanitize-recover=all)
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TSAN_OPTIONS=halt_on_error=1
    if [ "$kind" = thread ]; then
        # TSan's runtime intercepts libdispatch, which the Swift toolchain ships.
        swiftlib="$(dirname "$CLANG")/../lib/swift/linux"
        "$CLANG" "${cflags[@]}" -D_POSIX_C_SOURCE=200809L Tests/C/bench_threads.c -L"$BIN" -lMimetic -lm -lpthread \
            -L"$swiftlib" -ldispatch -lBlocksRuntime -Wl,-rpath,"$BIN" -Wl,-rpath,"$swiftlib" -o "$out/bench_threads"
        echo "== thread: 4 threads x one stream each, real-time encoder and wav2vec 2.0 models"
        "$out/bench_threads" "$F_RT" 4 0.5 1
        "$out/bench_threads" "$F_W2V" 4 0.5 1
        continue
    fi
    for t in test_model_abi test_persona_abi test_untrusted_input test_animate_abi test_retarget_abi; do
        "$CLANG" "${cflags[@]}" "Tests/C/$t.c" -L"$BIN" -lMimetic -lm -Wl,-rpath,"$BIN" -o "$out/$t"
    done
    echo "== $kind: C ABI tests"
    "$out/test_model_abi" "$F_W2V"
    "$out/test_model_abi" Tests/Fixtures/mimic_conv.model.safetensors
    "$out/test_persona_abi" Tests/Fixtures/imitator_zeros.model.safetensors Tests/Fixtures/imitator_style.model.safetensors \
        Tests/Fixtures/mimic_conv.model.safetensors
    "$out/test_untrusted_input" "$F_W2V" models/default.safetensors Tests/Fixtures/imitator_style.model.safetensors \
        Tests/Fuzz/regressions/model-huge-weights.safetensors
    # mimetic_animate against the (uninstrumented, debug) CLI.
    swift build --product mimetic >/dev/null
    "$out/test_animate_abi" "$(swift build --show-bin-path)/mimetic" examples/audio/hello.wav "$F_RT" Tests/Fixtures/mimic_conv.model.safetensors
    "$out/test_retarget_abi" models/default.safetensors models/arkit52.safetensors models/samples/bumblebees.wav "$F_W2V"
    echo "== $kind: the Godot addon (bindings/godot) through its host harness"
    godot="$scratch/godot"; mkdir -p "$godot/addons/mimetic/bin" "$godot/addons/mimetic/models"
    cp bindings/godot/addon/mimetic.gdextension "$godot/addons/mimetic/"
    cp models/default.safetensors models/arkit52.safetensors "$godot/addons/mimetic/models/"
    "$CLANG" "${cflags[@]/-std=c99/-std=c11}" -Wno-format-truncation -fPIC -fvisibility=hidden -shared bindings/godot/src/*.c \
        -L"$BIN" -lMimetic -Wl,-rpath,"$BIN" -o "$godot/addons/mimetic/bin/libmimetic_godot.linux.x86_64.so"
    "$CLANG" "${cflags[@]/-std=c99/-std=c11}" -Wno-format-truncation bindings/godot/tests/*.c -L"$BIN" -lMimetic -ldl -lm \
        -Wl,-rpath,"$BIN" -o "$out/test_godot_addon"
    "$out/test_godot_addon" "$godot" examples/audio/hello.wav | tail -1
    if [ $SWIFT_TESTS = 1 ]; then
        echo "== $kind: Swift tests"
        swift test --scratch-path "$scratch" "${sflags[@]}" 2>&1 | tee "$scratch/swift-test.log" | grep -E "error|Executed .* tests" | tail -3
        grep -q "with 0 failures" "$scratch/swift-test.log"
    fi
done
echo "sanitize: ${KINDS[*]} passed"
