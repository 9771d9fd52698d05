"""Model loading, info, style names and every bad input reachable from Python."""
from __future__ import annotations

import ctypes
import gc

import numpy as np
import pytest

import mimetic
from mimetic import _lib

from mimetic_testutil import FIXTURES


def test_load_and_info(vocaset_path):
    with mimetic.Model(vocaset_path) as m:
        info = m.info
        assert info.family == mimetic.Family.FACEFORMER and info.family_name == "faceformer"
        assert info.sample_rate == 16000 and info.fps == 30
        assert info.output_size == 3 * info.num_vertices and info.num_vertices > 0
        assert info.num_styles > 0 and info.style_dim > 0 and info.max_context_frames > 0
        assert isinstance(info.has_template, bool)
        assert 0 <= info.min_lookahead_ms <= info.max_lookahead_ms
        names = m.style_names
        assert len(names) == info.num_styles and all(isinstance(n, str) and n for n in names)
        assert m.path == str(vocaset_path)
        assert "faceformer" in repr(m)
    assert m.closed and "closed" in repr(m)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.model.safetensors")), ids=lambda p: p.name.split(".")[0])
def test_every_fixture_loads(path):
    m = mimetic.Model(path)
    info = m.info
    assert info.output_size == 3 * info.num_vertices
    assert len(m.style_names) == info.num_styles
    m.close()


def test_families(mimic_path):
    with mimetic.Model(mimic_path) as m:
        assert m.info.family == mimetic.Family.MIMIC and m.info.family_name == "mimic"
    p = FIXTURES / "imitator_style.model.safetensors"
    if p.exists():
        with mimetic.Model(p) as m:
            assert m.info.family == mimetic.Family.IMITATOR


def test_pathlike_and_str(vocaset_path):
    for p in (vocaset_path, str(vocaset_path), bytes(vocaset_path)):
        with mimetic.Model(p) as m:
            assert m.info.fps == 30


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "numpy"])
def test_from_bytes(vocaset_path, kind):
    raw = vocaset_path.read_bytes()
    data = {"bytes": lambda: raw, "bytearray": lambda: bytearray(raw), "memoryview": lambda: memoryview(raw),
            "numpy": lambda: np.frombuffer(raw, dtype=np.uint8).copy()}[kind]()
    with mimetic.Model(vocaset_path) as ref, mimetic.Model.from_bytes(data) as m:
        assert m.info == ref.info
        assert m.style_names == ref.style_names
        assert m.path is None and "<bytes>" in repr(m)
        if kind in ("bytearray", "numpy"):
            data[:] = bytearray(len(data)) if kind == "bytearray" else 0  # the library copied the buffer
            assert m.info == ref.info


def test_bad_path_is_io_error_naming_the_path(tmp_path):
    missing = tmp_path / "no such dir" / "model.safetensors"
    with pytest.raises(mimetic.MimeticIOError) as ei:
        mimetic.Model(missing)
    assert ei.value.status == mimetic.Status.IO
    assert str(missing) in ei.value.message
    assert isinstance(ei.value, mimetic.MimeticError)
    assert mimetic.last_error() == ei.value.message  # captured from the same thread


def test_directory_path_is_an_error(tmp_path):
    with pytest.raises(mimetic.MimeticError) as ei:
        mimetic.Model(tmp_path)
    assert ei.value.status in (mimetic.Status.IO, mimetic.Status.INVALID_MODEL)


def test_none_and_wrong_type_path():
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Model(None)  # type: ignore[arg-type]
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Model(123)  # type: ignore[arg-type]
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Model("bad\0path")


@pytest.mark.parametrize("data", [b"garbage!garbage!", b"\x08" + b"\0" * 7 + b"{}" * 4, b"\xff" * 64])
def test_corrupt_bytes_are_invalid_model(data):
    with pytest.raises(mimetic.InvalidModelError) as ei:
        mimetic.Model.from_bytes(data)
    assert ei.value.status == mimetic.Status.INVALID_MODEL and ei.value.message


def test_truncated_file_is_invalid_model(vocaset_path, tmp_path):
    raw = vocaset_path.read_bytes()
    for cut in (8, 100, len(raw) // 2, len(raw) - 1):
        with pytest.raises(mimetic.InvalidModelError):
            mimetic.Model.from_bytes(raw[:cut])
        p = tmp_path / f"cut{cut}.safetensors"
        p.write_bytes(raw[:cut])
        with pytest.raises(mimetic.InvalidModelError):
            mimetic.Model(p)


def test_empty_bytes_and_non_bytes():
    with pytest.raises(mimetic.InvalidArgumentError) as ei:
        mimetic.Model.from_bytes(b"")
    assert ei.value.status == mimetic.Status.INVALID_ARGUMENT
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Model.from_bytes(None)
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Model.from_bytes(12345)


def test_closed_model(vocaset_path):
    m = mimetic.Model(vocaset_path)
    m.close()
    m.close()  # idempotent
    assert m.closed
    for get in (lambda: m.info, lambda: m.style_names, lambda: m.handle):
        with pytest.raises(mimetic.InvalidArgumentError):
            get()
    with pytest.raises(mimetic.InvalidArgumentError):
        with m:
            pass


def test_gc_frees(vocaset_path):
    m = mimetic.Model(vocaset_path)
    del m
    gc.collect()


# -- the raw C functions with the handles Python never passes ---------------------------------

def test_c_null_handles(vocaset_path):
    lib = _lib.lib
    info = _lib.sized(_lib.ModelInfoC)
    assert lib.mimetic_model_get_info(None, ctypes.byref(info)) == mimetic.Status.INVALID_ARGUMENT
    assert "NULL" in mimetic.last_error()
    out = _lib.c_model_p()
    assert lib.mimetic_model_load(None, ctypes.byref(out)) == mimetic.Status.INVALID_ARGUMENT and not out.value
    assert lib.mimetic_model_load(str(vocaset_path).encode(), None) == mimetic.Status.INVALID_ARGUMENT
    assert lib.mimetic_model_load_from_memory(None, 10, ctypes.byref(out)) == mimetic.Status.INVALID_ARGUMENT
    assert lib.mimetic_model_style_name(None, 0) is None
    assert lib.mimetic_model_free(None) == mimetic.Status.OK
    with mimetic.Model(vocaset_path) as m:
        assert lib.mimetic_model_get_info(m.handle, None) == mimetic.Status.INVALID_ARGUMENT
        assert lib.mimetic_model_style_name(m.handle, m.info.num_styles) is None
        assert "out of range" in mimetic.last_error()
        assert lib.mimetic_model_style_name(m.handle, -1) is None


def test_c_info_struct_size(vocaset_path):
    """struct_size 0 is rejected; a smaller (older) size writes only that many bytes."""
    lib = _lib.lib
    with mimetic.Model(vocaset_path) as m:
        info = _lib.ModelInfoC()
        assert lib.mimetic_model_get_info(m.handle, ctypes.byref(info)) == mimetic.Status.INVALID_ARGUMENT
        info = _lib.ModelInfoC(struct_size=_lib.ModelInfoC.fps.offset, fps=-7, num_vertices=-7)
        assert lib.mimetic_model_get_info(m.handle, ctypes.byref(info)) == mimetic.Status.OK
        assert info.sample_rate == 16000 and info.fps == -7 and info.num_vertices == -7


# -- template and style from motion (declared when the library has them) ----------------------

requires_template = pytest.mark.skipif(not _lib.has("mimetic_model_get_template"), reason="no mimetic_model_get_template")
requires_style_from_motion = pytest.mark.skipif(not _lib.has("mimetic_style_from_motion"),
                                                reason="no mimetic_style_from_motion")


@requires_template
def test_template(vocaset, vocaset_path):
    t = vocaset.template
    assert t is not None and t.dtype == np.float32 and t.shape == (vocaset.info.num_vertices, 3)
    assert np.isfinite(t).all() and np.abs(t).max() > 0
    with mimetic.Model.from_bytes(vocaset_path.read_bytes()) as m:
        np.testing.assert_array_equal(m.template, t)
    lib = _lib.lib
    small = np.zeros(vocaset.info.output_size - 1, np.float32)
    st = lib.mimetic_model_get_template(vocaset.handle, small.ctypes.data_as(_lib.c_float_p), small.size)
    assert st == mimetic.Status.BUFFER_TOO_SMALL and str(vocaset.info.output_size) in mimetic.last_error()
    assert lib.mimetic_model_get_template(None, small.ctypes.data_as(_lib.c_float_p), small.size) == \
        mimetic.Status.INVALID_ARGUMENT
    assert lib.mimetic_model_get_template(vocaset.handle, None, 1000) == mimetic.Status.INVALID_ARGUMENT


@requires_style_from_motion
def test_style_from_motion(mimic, vocaset, expected):
    ref = expected("mimic_conv")["style_offsets"]  # [frames, output_size]
    code = mimic.style_from_motion(ref)
    assert code.shape == (mimic.info.style_dim,) and code.dtype == np.float32 and np.isfinite(code).all()
    code3 = mimic.style_from_motion(ref.reshape(ref.shape[0], mimic.info.num_vertices, 3))
    np.testing.assert_array_equal(code, code3)
    assert not np.array_equal(code, mimic.style_from_motion(ref[::-1].copy()))
    with pytest.raises(mimetic.InvalidArgumentError):
        mimic.style_from_motion(ref[:, :-1])
    with pytest.raises(mimetic.InvalidArgumentError):
        mimic.style_from_motion(ref[0])
    with pytest.raises(mimetic.MimeticError):
        mimic.style_from_motion(ref[:0])
    with pytest.raises(mimetic.InvalidArgumentError) as ei:
        vocaset.style_from_motion(ref)  # not a Mimic model
    assert ei.value.message
    lib = _lib.lib
    small = np.zeros(mimic.info.style_dim - 1, np.float32)
    st = lib.mimetic_style_from_motion(mimic.handle, np.ascontiguousarray(ref).ctypes.data_as(_lib.c_float_p),
                                       ref.shape[0], small.ctypes.data_as(_lib.c_float_p), small.size)
    assert st == mimetic.Status.BUFFER_TOO_SMALL and str(mimic.info.style_dim) in mimetic.last_error()
