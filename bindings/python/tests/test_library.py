"""The ctypes layer against include/mimetic.h: every function declared, struct layouts, enums, discovery."""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import mimetic
from mimetic import _lib

from mimetic_testutil import PACKAGE_ROOT, REPO

HEADER = REPO / "include" / "mimetic.h"


def header_text() -> str:
    if not HEADER.is_file():
        pytest.skip("include/mimetic.h not found (not a checkout)")
    return HEADER.read_text()


def test_every_header_function_is_declared():
    names = set(re.findall(r"MIMETIC_API\s+[^;(]*?\b(mimetic_\w+)\s*\(", header_text()))
    assert names, "no functions parsed from the header"
    assert names == set(_lib.FUNCTIONS), (names ^ set(_lib.FUNCTIONS))


def test_status_and_enum_values_match_header():
    text = header_text()
    for prefix, enum in [("MIMETIC_ERROR_", mimetic.Status), ("MIMETIC_FAMILY_", mimetic.Family),
                         ("MIMETIC_LOG_", mimetic.LogLevel), ("MIMETIC_SAMPLES_", mimetic.SamplePolicy)]:
        found = {m.group(1): int(m.group(2)) for m in re.finditer(prefix + r"(\w+)\s*=\s*(\d+)", text)}
        assert found, prefix
        for name, value in found.items():
            assert enum[name].value == value, (prefix, name)
        assert len(enum) - (1 if enum is mimetic.Status else 0) == len(found), prefix
    assert re.search(r"MIMETIC_OK\s*=\s*0", text) and mimetic.Status.OK == 0


def test_version_matches_header_and_binding():
    text = header_text()
    version = re.search(r'#define MIMETIC_VERSION_STRING "([^"]+)"', text).group(1)
    assert mimetic.version() == version
    assert mimetic.__version__ == version
    assert tuple(int(x) for x in version.split(".")) == _lib.BINDING_VERSION


def test_status_strings():
    assert mimetic.status_string(mimetic.Status.OK) == "ok"
    for st in mimetic.Status:
        assert mimetic.status_string(st) not in ("", "unknown status"), st
    assert mimetic.status_string(1234) == "unknown status"


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_struct_layout_matches_c(tmp_path):
    """sizeof/offsetof of every struct field, compiled from the header, against the ctypes mirrors."""
    header_text()
    structs = {"mimetic_model_info": _lib.ModelInfoC, "mimetic_stream_params": _lib.StreamParamsC,
               "mimetic_frame_info": _lib.FrameInfoC, "mimetic_stream_stats": _lib.StreamStatsC}
    lines = ['#include "mimetic.h"', "#include <stdio.h>", "#include <stddef.h>", "int main(void) {"]
    for cname, py in structs.items():
        lines.append(f'printf("{cname} sizeof %zu\\n", sizeof({cname}));')
        for field, _ in py._fields_:
            lines.append(f'printf("{cname} {field} %zu %zu\\n", offsetof({cname}, {field}), sizeof((({cname} *)0)->{field}));')
    for enum in ["mimetic_status", "mimetic_family", "mimetic_log_level", "mimetic_sample_policy"]:
        lines.append(f'printf("{enum} enum %zu\\n", sizeof({enum}));')
    lines += ["return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run(["cc", "-std=c99", "-Wall", "-Werror", f"-I{REPO / 'include'}", str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split("\n")
    for line in filter(None, out):
        parts = line.split()
        if parts[1] == "sizeof":
            assert ctypes.sizeof(structs[parts[0]]) == int(parts[2]), line
        elif parts[1] == "enum":
            assert ctypes.sizeof(ctypes.c_int) == int(parts[2]), line
        else:
            field = getattr(structs[parts[0]], parts[1])
            assert (field.offset, field.size) == (int(parts[2]), int(parts[3])), line


def test_sized_structs():
    for t in (_lib.ModelInfoC, _lib.StreamParamsC, _lib.FrameInfoC, _lib.StreamStatsC):
        assert _lib.sized(t).struct_size == ctypes.sizeof(t)


def _import_in_subprocess(env_extra, code="import mimetic; print(mimetic.library_path)"):
    env = {k: v for k, v in os.environ.items() if k != "MIMETIC_LIBRARY"}
    env.update(env_extra)
    env["PYTHONPATH"] = str(PACKAGE_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")


def test_env_var_wins_and_wrong_path_is_a_clear_error():
    r = _import_in_subprocess({"MIMETIC_LIBRARY": mimetic.library_path})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == mimetic.library_path
    r = _import_in_subprocess({"MIMETIC_LIBRARY": "/nonexistent/libMimetic.so"}, textwrap.dedent("""
        try:
            import mimetic
        except ImportError as e:
            import sys
            E = sys.modules["mimetic._errors"]  # the failed package's module
            print(type(e).__name__, isinstance(e, E.MimeticError), e.status.name)
            print(e)
    """))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("LibraryNotFoundError True IO"), r.stdout
    assert "/nonexistent/libMimetic.so" in r.stdout and "MIMETIC_LIBRARY" in r.stdout


def test_not_a_mimetic_library_is_rejected():
    path = None
    for cand in ("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6"):
        if os.path.exists(cand):
            path = cand
    if path is None:
        pytest.skip("no libm found")
    r = _import_in_subprocess({"MIMETIC_LIBRARY": path}, "import mimetic")
    assert r.returncode != 0
    assert "mimetic_version" in r.stderr or "does not export" in r.stderr


def test_discovery_from_checkout_without_env():
    """From a checkout, .build/release or .build/debug is found with no environment variable."""
    builds = [REPO / ".build" / c / "libMimetic.so" for c in ("release", "debug")]
    if not any(p.exists() for p in builds):
        pytest.skip("no .build/{release,debug}/libMimetic.so in this checkout")
    r = _import_in_subprocess({})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in {str(p) for p in builds if p.exists()}


def test_candidates_order(monkeypatch):
    monkeypatch.setenv("MIMETIC_LIBRARY", "/x/libMimetic.so")
    cands = [w for _, w in _lib.candidates()]
    assert cands[0] == "/x/libMimetic.so"
    assert cands[1].endswith(os.path.join("mimetic", "libMimetic.so"))
    rel = [c for c in cands if ".build" in c]
    if rel:
        assert "release" in rel[0] and "debug" in rel[1]
    assert cands[-1] == "libMimetic.so" and "libMimetic.so.0" in cands


def test_last_error_is_per_thread():
    import threading
    results = {}

    def worker(i):
        try:
            mimetic.Model(f"/nonexistent/thread{i}/model.safetensors")
        except mimetic.MimeticIOError as e:
            results[i] = e.message
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    for i, msg in results.items():
        assert f"thread{i}" in msg


def test_error_classes():
    e = mimetic.error_for(mimetic.Status.INVALID_MODEL, "bad")
    assert isinstance(e, mimetic.InvalidModelError) and e.status == mimetic.Status.INVALID_MODEL and e.message == "bad"
    assert "bad" in str(e) and "INVALID_MODEL" in str(e)
    assert isinstance(mimetic.error_for(1, "x"), ValueError)
    assert isinstance(mimetic.error_for(99, "x"), mimetic.InternalError)
    for st in mimetic.Status:
        if st != mimetic.Status.OK:
            assert mimetic.error_for(st, "m").status == st


@pytest.mark.skipif(not _lib.has("mimetic_set_threads"), reason="no mimetic_set_threads")
def test_threads():
    before = mimetic.get_threads()
    assert before >= 1
    try:
        mimetic.set_threads(1)
        assert mimetic.get_threads() == 1
        mimetic.set_threads(0)
        assert mimetic.get_threads() == 1
        mimetic.set_threads(-5)
        assert mimetic.get_threads() == 1
        mimetic.set_threads(2)
        assert mimetic.get_threads() >= 1
        with pytest.raises(mimetic.InvalidArgumentError):
            mimetic.set_threads(2 ** 40)
    finally:
        mimetic.set_threads(before)
    assert mimetic.get_threads() == before
