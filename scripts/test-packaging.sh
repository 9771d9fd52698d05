#!/usr/bin/env bash
# Packaging test: the release libMimetic.so (SONAME, dependencies, no toolchain RUNPATH, no exported
# Swift runtime), `make install` into a temporary prefix, consumers built with CMake
# (find_package(Mimetic)) and with pkg-config, the installed tree moved elsewhere, the C++ binding
# test and the engine demo against the installed tree.
#
#   bash scripts/test-packaging.sh            # from anywhere; builds with `make lib cli` first
#   KEEP=1 bash scripts/test-packaging.sh     # keep the temporary prefix and builds (path printed)
#
# Consumers find the library at run time through the rpath their build gives them (CMake adds the
# imported library's directory to the build-tree RPATH; the pkg-config build passes
# -Wl,-rpath,$(pkg-config --variable=libdir mimetic)) or through LD_LIBRARY_PATH. libMimetic.so
# itself needs no rpath: it only depends on system libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MODEL="${MODEL_FIXTURE:-$ROOT/Tests/Fixtures/faceformer_vocaset.model.safetensors}"
AUDIO="${AUDIO:-$ROOT/examples/audio/hello.wav}"
MAKE="${MAKE:-make}"
RELEASE_SCRATCH="${RELEASE_SCRATCH:-.build-release}"
LIB="$RELEASE_SCRATCH/release/libMimetic.so"
VERSION="$(sed -n 's/^#define MIMETIC_VERSION_STRING "\(.*\)"/\1/p' include/mimetic.h)"
SOVERSION="${VERSION%%.*}"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "  ok: $*"; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mimetic-packaging.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then echo "(keeping $TMP)"; else trap 'rm -rf "$TMP"' EXIT; fi

echo "== make lib cli (release, -static-stdlib, scratch $RELEASE_SCRATCH)"
build() {
    # An editor saving a source mid-build makes swift build stop ("was modified during the build"): retry once.
    if ! "$MAKE" --no-print-directory lib cli RELEASE_SCRATCH="$RELEASE_SCRATCH" >"$TMP/build.log" 2>&1; then
        if grep -q "modified during the build" "$TMP/build.log"; then
            echo "  (a source changed during the build: retrying)"
            "$MAKE" --no-print-directory lib cli RELEASE_SCRATCH="$RELEASE_SCRATCH" >"$TMP/build.log" 2>&1 || { tail -40 "$TMP/build.log"; exit 1; }
        else
            tail -40 "$TMP/build.log"; exit 1
        fi
    fi
}
start=$SECONDS
build
echo "  built in $((SECONDS - start)) s: $(du -h "$LIB" | cut -f1) $LIB"

echo "== dynamic section of libMimetic.so"
readelf -d "$LIB" | grep -E '\((NEEDED|SONAME|RUNPATH|RPATH)\)' | sed 's/^/  /'
soname="$(readelf -d "$LIB" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
[ "$soname" = "libMimetic.so.$SOVERSION" ] && ok "SONAME $soname" || fail "SONAME is '$soname', expected libMimetic.so.$SOVERSION"
check_needed() { # FILE: NEEDED must be a subset of libc, libm, libstdc++, libgcc_s, libopenblas, ld-linux (+ libMimetic for bin/)
    local file="$1" extra="${2:-}" needed bad=""
    needed="$(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
    for n in $needed; do
        case "$n" in
            libc.so.6|libm.so.6|libstdc++.so.6|libgcc_s.so.1|libopenblas.so.0|ld-linux-x86-64.so.2|ld-linux-aarch64.so.1) ;;
            *) [ -n "$extra" ] && [ "$n" = "$extra" ] || bad="$bad $n" ;;
        esac
    done
    [ -z "$bad" ] && ok "$(basename "$file") NEEDED: $(echo $needed)" || fail "$(basename "$file") needs more than allowed:$bad"
}
check_runpath() { # FILE: no RPATH/RUNPATH except $ORIGIN (SwiftPM adds that one; harmless)
    local file="$1" rp
    rp="$(readelf -d "$file" | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]/\2/p')"
    local bad=""
    IFS=: read -ra parts <<<"$rp"
    for p in "${parts[@]}"; do
        case "$p" in '$ORIGIN'|'$ORIGIN/'*|'') ;; *) bad="$bad $p" ;; esac
    done
    [ -z "$bad" ] && ok "$(basename "$file") RUNPATH: '${rp}' (no toolchain path)" || fail "$(basename "$file") RUNPATH points outside:$bad"
}
check_needed "$LIB"
check_runpath "$LIB"
if grep -q "not found" <<<"$(ldd "$LIB")"; then fail "unresolved dependencies: $(ldd "$LIB" | grep 'not found')"; else ok "ldd resolves everything"; fi

echo "== exported symbols"
nm -D --defined-only "$LIB" | awk '{print $3}' >"$TMP/exports"
swift_rt="$(grep -cE '^(swift_|_swift_|\$ss|\$s10Foundation|\$s20FoundationEssentials)' "$TMP/exports" || true)"
[ "$swift_rt" = 0 ] && ok "no Swift runtime/stdlib/Foundation symbols exported ($(wc -l <"$TMP/exports") dynamic symbols)" \
    || fail "$swift_rt Swift runtime/stdlib symbols exported (would clash with another Swift runtime in the process)"
# Only GLOBAL/WEAK definitions can be bound by another module; LOCAL entries left in .dynsym
# (Swift type metadata the relocations name) cannot.
nm -D --defined-only "$LIB" | awk '$2 ~ /^[A-Z]$/ {print $3}' | sort -u >"$TMP/global_exports"
sed -n 's/^MIMETIC_API [^(]*[ *]\(mimetic_[a-z0-9_]*\)(.*/\1/p' include/mimetic.h | sort -u >"$TMP/header_functions"
if cmp -s "$TMP/global_exports" "$TMP/header_functions"; then
    ok "the $(wc -l <"$TMP/global_exports") global dynamic symbols are exactly the header's functions (1 169 before the version script)"
else
    fail "global dynamic symbols differ from the header's functions: $(comm -3 "$TMP/global_exports" "$TMP/header_functions" | tr -d '\t' | tr '\n' ' ')"
fi
# The lean library: no Foundation, hence no ICU data (34 MB), in the core (issue 11).
stripped_bytes="$(strip -o "$TMP/stripped.so" "$LIB" && stat -c %s "$TMP/stripped.so")"
[ "$stripped_bytes" -le $((8 * 1024 * 1024)) ] && ok "stripped size $stripped_bytes bytes (goal <= 8 MiB; unstripped $(stat -c %s "$LIB"))" \
    || fail "stripped size $stripped_bytes bytes is over 8 MiB"
foundation_syms="$(nm "$LIB" | grep -cE '\$s10Foundation|\$s20FoundationEssentials|icudt|ucnv_open' || true)"
[ "$foundation_syms" = 0 ] && ok "no Foundation or ICU code linked in" || fail "$foundation_syms Foundation/ICU symbols linked into libMimetic"
if grep -rlE '^\s*(@_exported )?import (Foundation|FoundationEssentials|Dispatch)\b' Sources/MimeticCore Sources/Mimetic >"$TMP/foundation_importers"; then
    fail "Foundation imported by the core or the ABI: $(tr '\n' ' ' <"$TMP/foundation_importers")"
else
    ok "neither MimeticCore nor the ABI imports Foundation or Dispatch"
fi
# The version script (packaging/libMimetic.map) keeps every function but the C ABI local.
nm -D --defined-only "$LIB" | awk '$2 ~ /^[TtWwi]$/ && $3 !~ /^mimetic_/ {print $3}' >"$TMP/other_functions"
[ ! -s "$TMP/other_functions" ] && ok "no function but mimetic_* exported" \
    || fail "$(wc -l <"$TMP/other_functions") non-ABI functions exported, e.g. $(head -3 "$TMP/other_functions" | tr '\n' ' ')"
grep -E '^mimetic_' "$TMP/exports" | sort -u >"$TMP/c_exports"
sed -n 's/^MIMETIC_API [^(]*[ *]\(mimetic_[a-z0-9_]*\)(.*/\1/p' include/mimetic.h | sort -u >"$TMP/declared"
undeclared="$(comm -23 "$TMP/c_exports" "$TMP/declared" | tr '\n' ' ')"
missing="$(comm -13 "$TMP/c_exports" "$TMP/declared" | tr '\n' ' ')"
[ -z "$undeclared" ] && ok "every exported mimetic_* symbol is declared in mimetic.h ($(wc -l <"$TMP/c_exports") of $(wc -l <"$TMP/declared"))" \
    || fail "exported but not in mimetic.h: $undeclared"
if [ -n "$missing" ]; then
    if [ "${REQUIRE_ALL_SYMBOLS:-1}" = 1 ]; then fail "declared in mimetic.h but not exported: $missing"
    else echo "  WARNING: declared in mimetic.h but not exported yet: $missing"; fi
else
    ok "every function of mimetic.h is exported"
fi
HAVE_STREAMS=0
grep -qx mimetic_stream_create "$TMP/c_exports" && HAVE_STREAMS=1

echo "== the mimetic CLI (-static-stdlib)"
check_needed "$RELEASE_SCRATCH/release/mimetic"
check_runpath "$RELEASE_SCRATCH/release/mimetic"

echo "== make install PREFIX=$TMP/prefix"
P="$TMP/prefix"
"$MAKE" --no-print-directory install PREFIX="$P" RELEASE_SCRATCH="$RELEASE_SCRATCH" >"$TMP/install.log" 2>&1 || { tail -20 "$TMP/install.log"; exit 1; }
(cd "$P" && find . \( -type f -o -type l \) | sort | while read -r f; do
    if [ -L "$f" ]; then echo "  $f -> $(readlink "$f")"; else echo "  $f"; fi; done)
for f in include/mimetic.h include/mimetic.hpp "lib/libMimetic.so.$VERSION" lib/pkgconfig/mimetic.pc \
         lib/cmake/Mimetic/MimeticConfig.cmake lib/cmake/Mimetic/MimeticConfigVersion.cmake bin/mimetic; do
    [ -f "$P/$f" ] || fail "not installed: $f"
done
[ "$(readlink "$P/lib/libMimetic.so.$SOVERSION")" = "libMimetic.so.$VERSION" ] || fail "libMimetic.so.$SOVERSION symlink"
[ "$(readlink "$P/lib/libMimetic.so")" = "libMimetic.so.$SOVERSION" ] || fail "libMimetic.so symlink"
"$P/bin/mimetic" info "$MODEL" >"$TMP/cli.txt" 2>&1 && grep -q "faceformer" "$TMP/cli.txt" && ok "installed bin/mimetic info works" \
    || { cat "$TMP/cli.txt"; fail "installed bin/mimetic info"; }

# Builds and runs both consumers against prefix $1 (build directories under $2).
consumers() {
    local prefix="$1" out="$2"
    mkdir -p "$out"
    # CMake: find_package(Mimetic 0.1 REQUIRED) + Mimetic::Mimetic.
    if cmake -S Tests/Packaging/consumer -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$out/cmake.log" 2>&1 \
        && cmake --build "$out/cmake" >>"$out/cmake.log" 2>&1; then
        if "$out/cmake/consumer" "$MODEL" >"$out/cmake.out" 2>&1 && grep -q "version $VERSION" "$out/cmake.out" \
            && grep -q "output_size=" "$out/cmake.out"; then
            ok "CMake consumer: $(head -1 "$out/cmake.out"); $(sed -n 2p "$out/cmake.out")"
        else cat "$out/cmake.out"; fail "CMake consumer run ($prefix)"; fi
        grep -q "Mimetic $VERSION: $prefix/include" "$out/cmake.log" || fail "find_package found another Mimetic: $(grep 'Mimetic ' "$out/cmake.log")"
    else
        tail -30 "$out/cmake.log"; fail "CMake consumer build ($prefix)"
    fi
    # pkg-config (+ the installed C++ binding header).
    local flags libdir
    flags="$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs mimetic)" || { fail "pkg-config mimetic"; return; }
    libdir="$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --variable=libdir mimetic)"
    [ "$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion mimetic)" = "$VERSION" ] || fail "pkg-config --modversion"
    echo "  pkg-config --cflags --libs mimetic: $flags"
    # shellcheck disable=SC2086
    if g++ -std=c++17 -Wall -Wextra -Werror -DUSE_CPP_BINDING Tests/Packaging/consumer/consumer.cpp -o "$out/pc_consumer" \
        $flags -Wl,-rpath,"$libdir" 2>"$out/pc.log"; then
        if "$out/pc_consumer" "$MODEL" >"$out/pc.out" 2>&1 && grep -q "version $VERSION" "$out/pc.out"; then
            ok "pkg-config consumer: $(head -1 "$out/pc.out"); $(sed -n 2p "$out/pc.out")"
        else cat "$out/pc.out"; fail "pkg-config consumer run ($prefix)"; fi
    else
        cat "$out/pc.log"; fail "pkg-config consumer build ($prefix)"
    fi
}

echo "== consumers against $P"
consumers "$P" "$TMP/build1"
grep -q 'Shared library: \[libMimetic.so.'"$SOVERSION"'\]' <<<"$(readelf -d "$TMP/build1/pc_consumer")" \
    && ok "consumers record NEEDED libMimetic.so.$SOVERSION (the SONAME)" || fail "consumer NEEDED is not the SONAME"

echo "== find_package version checks"
fp() { cmake -S Tests/Packaging/consumer -B "$TMP/fp-$1" -DCMAKE_PREFIX_PATH="$P" -DMIMETIC_FIND_VERSION="$1" >"$TMP/fp-$1.log" 2>&1; }
fp "0.1" && ok "find_package(Mimetic 0.1)" || fail "find_package(Mimetic 0.1)"
fp "$VERSION" && ok "find_package(Mimetic $VERSION)" || fail "find_package(Mimetic $VERSION)"
fp "0.1...0.2" && ok "find_package(Mimetic 0.1...0.2)" || fail "find_package(Mimetic 0.1...0.2)"
fp "0.2" && fail "find_package(Mimetic 0.2) accepted $VERSION" || ok "find_package(Mimetic 0.2) refused"
fp "1.0" && fail "find_package(Mimetic 1.0) accepted $VERSION" || ok "find_package(Mimetic 1.0) refused"
fp "0.0" && fail "find_package(Mimetic 0.0) accepted $VERSION (0.x: minors are ABI breaks)" || ok "find_package(Mimetic 0.0) refused"

echo "== the installed tree, moved"
M="$TMP/moved/elsewhere"
mkdir -p "$(dirname "$M")"
mv "$P" "$M"
LD_LIBRARY_PATH="$M/lib" "$TMP/build1/cmake/consumer" "$MODEL" >/dev/null 2>&1 \
    && ok "old CMake consumer runs with LD_LIBRARY_PATH=<moved>/lib" || fail "old consumer with LD_LIBRARY_PATH"
if "$TMP/build1/cmake/consumer" "$MODEL" >/dev/null 2>&1; then
    echo "  note: the old consumer still ran without LD_LIBRARY_PATH (libMimetic found elsewhere on the system?)"
else
    ok "old consumer without LD_LIBRARY_PATH fails as expected (its rpath named the old prefix)"
fi
"$M/bin/mimetic" info "$MODEL" >/dev/null 2>&1 && ok "moved bin/mimetic runs" || fail "moved bin/mimetic"
[ "$(PKG_CONFIG_PATH="$M/lib/pkgconfig" pkg-config --variable=libdir mimetic)" = "$M/lib/pkgconfig/../../lib" ] \
    && ok "mimetic.pc follows the move (prefix from \${pcfiledir})" || fail "pkg-config libdir after the move"
consumers "$M" "$TMP/build2"

echo "== C++ binding test against the installed tree"
flags="$(PKG_CONFIG_PATH="$M/lib/pkgconfig" pkg-config --cflags --libs mimetic)"
# shellcheck disable=SC2086
if g++ -std=c++17 -O2 -Wall -Wextra -Werror bindings/cpp/test_mimetic.cpp -o "$TMP/test_mimetic" $flags -Wl,-rpath,"$M/lib" 2>"$TMP/cpp.log"; then
    if "$TMP/test_mimetic" "$MODEL" "$ROOT/Tests/Fixtures/mimic_conv.model.safetensors" >"$TMP/cpp.out" 2>&1; then ok "$(tail -n +1 "$TMP/cpp.out" | grep '^test_mimetic:')"
    else cat "$TMP/cpp.out"; fail "C++ binding test"; fi
else
    cat "$TMP/cpp.log"; fail "C++ binding test build"
fi

echo "== engine demo (examples/cpp/CMakeLists.txt, find_package) against the installed tree"
if cmake -S examples/cpp -B "$TMP/examples" -DCMAKE_PREFIX_PATH="$M" -DCMAKE_BUILD_TYPE=Release >"$TMP/examples.log" 2>&1 \
    && cmake --build "$TMP/examples" >>"$TMP/examples.log" 2>&1; then
    ok "engine_demo built"
    if [ "$HAVE_STREAMS" = 1 ]; then
        if "$TMP/examples/engine_demo" --model "$MODEL" --audio "$AUDIO" --fast >"$TMP/demo.out" 2>&1; then
            sed 's/^/  | /' "$TMP/demo.out"; ok "engine_demo --fast"
        else sed 's/^/  | /' "$TMP/demo.out"; fail "engine_demo --fast"; fi
    else
        echo "  SKIPPED running engine_demo: the library has no mimetic_stream_* functions yet"
    fi
elif [ "$HAVE_STREAMS" = 1 ]; then
    tail -30 "$TMP/examples.log"; fail "engine_demo build"
else
    echo "  SKIPPED: engine_demo does not link without the stream functions"
fi

echo "== Python wheel: bundles libMimetic, installs into a clean venv, imports and animates from outside the checkout"
PY="${PYTHON:-python3}"
case "$PY" in /*) ;; */*) PY="$ROOT/$PY" ;; esac
if "$PY" -m pip wheel -q --no-deps -w "$TMP/wheel" ./bindings/python >"$TMP/wheel.log" 2>&1; then
    whl="$(ls "$TMP"/wheel/mimetic-*.whl)"
    ok "built $(basename "$whl") ($(stat -c %s "$whl") bytes)"
    case "$(basename "$whl")" in *-py3-none-linux_x86_64.whl|*-py3-none-*.whl) ok "platform tag, any Python 3" ;; *) fail "wheel tag of $(basename "$whl")" ;; esac
    # The listing goes to a file first: piped into grep -q (which stops at the first match) under
    # pipefail, the lister's broken pipe failed the check whenever the line came before the end.
    "$PY" -m zipfile -l "$whl" >"$TMP/wheel.list"
    if grep -qE '^mimetic/libMimetic\.so ' "$TMP/wheel.list"; then ok "the wheel contains mimetic/libMimetic.so"
    else fail "the wheel has no mimetic/libMimetic.so"; fi
    if "$PY" -m venv "$TMP/venv" && "$TMP/venv/bin/pip" install -q "$whl" >"$TMP/venv.log" 2>&1; then
        mkdir -p "$TMP/elsewhere"
        if (cd "$TMP/elsewhere" && env -u MIMETIC_LIBRARY -u LD_LIBRARY_PATH -u PYTHONPATH "$TMP/venv/bin/python" -c "
import sys, numpy as np, mimetic
assert mimetic.library_path.startswith(sys.prefix), mimetic.library_path
m = mimetic.Model(sys.argv[1])
speech = mimetic.load_wav(sys.argv[2])
frames = m.animate(speech)
assert frames.shape == (m.frame_count(len(speech.samples), speech.sample_rate), m.info.num_vertices, 3) and np.isfinite(frames).all()
print(f'{mimetic.library_path}: {frames.shape[0]} frames of {speech.duration:.2f} s')
" "$MODEL" "$AUDIO" >"$TMP/venv.out" 2>&1); then ok "clean venv: $(cat "$TMP/venv.out")"
        else cat "$TMP/venv.out"; fail "import mimetic + Model.animate in a clean venv"; fi
    else cat "$TMP/venv.log"; fail "pip install of the wheel into a clean venv"; fi
else
    tail -20 "$TMP/wheel.log"; fail "pip wheel ./bindings/python"
fi

echo
if [ "$failures" = 0 ]; then echo "test-packaging: all checks passed ($((SECONDS - start)) s)"; else echo "test-packaging: $failures FAILED"; fi
[ "$failures" = 0 ]
