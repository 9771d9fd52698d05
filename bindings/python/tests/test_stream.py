"""Streaming: push/pull, flush, reset, snapshot/restore, styles, state buffers, bad inputs, lifetimes."""
from __future__ import annotations

import ctypes
import gc
import subprocess
import sys
import textwrap
import threading
from typing import Iterator, List, Optional

import numpy as np
import pytest

import mimetic
from mimetic import _lib

from mimetic_testutil import FIXTURES, PACKAGE_ROOT, fixture_path, requires_streaming

pytestmark = requires_streaming


def chunks(audio: np.ndarray, seed: int = 0, ones: int = 800) -> Iterator[np.ndarray]:
    """Random chunk sizes: the first `ones` samples one by one, then a mix from 1 sample to 4000."""
    rng = np.random.default_rng(seed)
    i = 0
    while i < min(ones, len(audio)):
        yield audio[i:i + 1]
        i += 1
    sizes = [1, 2, 3, 7, 159, 160, 161, 320, 999, 1600, 4000]
    while i < len(audio):
        n = int(rng.choice(sizes))
        yield audio[i:i + n]
        i += n


def run(model: mimetic.Model, audio: np.ndarray, pieces=None, pull_between: bool = False, **params):
    """Streams `audio` (in `pieces`, default one chunk), flushes, returns (offsets, infos)."""
    with mimetic.Stream(model, **params) as s:
        got: List[np.ndarray] = []
        infos: List[mimetic.FrameInfo] = []
        for piece in (pieces if pieces is not None else [audio]):
            s.push(piece)
            if pull_between:
                o, i = s.pull_all()
                got.append(o)
                infos += i
        assert not s.is_complete
        s.flush()
        o, i = s.pull_all()
        got.append(o)
        infos += i
        assert s.pull() is None
        assert s.is_complete
        return np.concatenate(got), infos


def offline_frames_vocaset(n_samples: int) -> int:
    """Frames the offline (whole-utterance) FaceFormer VOCASET pipeline produces for n 16 kHz samples."""
    L = (n_samples - 400) // 320 + 1
    return int((L / 50.0) * 30)


# -- offline vs streaming, chunking ------------------------------------------------------------

def test_frame_count_matches_offline_vocaset(vocaset, audio, expected):
    offsets, infos = run(vocaset, audio, list(chunks(audio, seed=1)))
    assert offsets.shape == (offline_frames_vocaset(len(audio)), vocaset.info.num_vertices, 3)
    assert offsets.shape[0] == expected("faceformer_vocaset")["offsets"].shape[0] == 47
    assert offsets.dtype == np.float32 and np.isfinite(offsets).all()
    assert [i.frame_index for i in infos] == list(range(len(infos)))
    assert [i.is_final for i in infos] == [False] * (len(infos) - 1) + [True]


@pytest.mark.parametrize("name", ["faceformer_biwi", "imitator_style", "mimic_conv", "faceformer_vocaset_f16"])
def test_frame_count_matches_offline_other_models(name, audio, expected):
    p = FIXTURES / f"{name}.model.safetensors"
    if not p.exists():
        pytest.skip(f"{p} missing")
    with mimetic.Model(p) as m:
        extra = {}
        if m.info.family == mimetic.Family.MIMIC and m.info.num_styles == 0:
            extra["style_code"] = m.style_from_motion(expected(name)["style_offsets"])
        offsets, _ = run(m, audio, list(chunks(audio, seed=2, ones=50)), **extra)
        assert offsets.shape == (expected(name)["offsets"].shape[0], m.info.num_vertices, 3)
        assert np.isfinite(offsets).all()


def test_chunking_does_not_change_output(vocaset, audio):
    whole, infos_whole = run(vocaset, audio)
    for seed in (3, 4):
        pieces, infos = run(vocaset, audio, list(chunks(audio, seed=seed)))
        np.testing.assert_array_equal(pieces, whole)
        assert infos == infos_whole


def test_pulling_while_pushing_does_not_change_output(vocaset, audio):
    whole, infos_whole = run(vocaset, audio)
    inter, infos = run(vocaset, audio, list(chunks(audio, seed=5, ones=10)), pull_between=True)
    np.testing.assert_array_equal(inter, whole)
    assert [i.frame_index for i in infos] == [i.frame_index for i in infos_whole]
    assert [i.timestamp_samples for i in infos] == [i.timestamp_samples for i in infos_whole]


def test_frames_arrive_before_flush(vocaset, audio):
    """With audio well beyond the lookahead, frames are ready without flushing."""
    with mimetic.Stream(vocaset) as s:
        s.push(audio)
        n = s.frames_ready()
        assert n > 0
        o, infos = s.pull_all()
        assert len(infos) == n and o.shape == (n, vocaset.info.num_vertices, 3)
        lookahead = s.params.lookahead_ms / 1000.0
        for fi in infos:
            assert not fi.is_final
            assert fi.latency_s >= lookahead - 1e-9, (fi, lookahead)
        s.flush()
        rest, _ = s.pull_all()
        assert n + len(rest) == offline_frames_vocaset(len(audio))


def test_frame_info_timestamps(vocaset, audio):
    for sr in (16000, 48000):
        a = audio if sr == 16000 else np.interp(np.arange(len(audio) * 3) / 3.0, np.arange(len(audio)), audio).astype(np.float32)
        _, infos = run(vocaset, a, sample_rate=sr)
        fps = vocaset.info.fps
        for fi in infos:
            assert fi.timestamp_s == pytest.approx(fi.frame_index / fps)
            assert abs(fi.timestamp_samples - fi.frame_index * sr / fps) <= 1
            assert np.isfinite(fi.latency_s) and fi.latency_s >= 0


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
def test_other_sample_rates(vocaset, audio, sr):
    t16 = np.arange(len(audio)) / 16000.0
    t = np.arange(int(len(audio) * sr / 16000)) / sr
    a = np.interp(t, t16, audio).astype(np.float32)
    offsets, infos = run(vocaset, a, list(chunks(a, seed=6, ones=20)), sample_rate=sr)
    assert abs(offsets.shape[0] - offline_frames_vocaset(len(audio))) <= 1
    assert np.isfinite(offsets).all()
    with mimetic.Stream(vocaset, sample_rate=sr) as s:
        s.push(a)
        assert s.stats.samples_pushed == len(a)


def test_float64_list_and_int16(vocaset, audio):
    ref, _ = run(vocaset, audio)
    f64, _ = run(vocaset, audio.astype(np.float64))
    np.testing.assert_array_equal(f64, ref)
    strided = np.repeat(audio, 2)[::2]  # non-contiguous view
    assert not strided.flags.c_contiguous
    st, _ = run(vocaset, strided)
    np.testing.assert_array_equal(st, ref)
    lst, _ = run(vocaset, audio[:4000].tolist())
    np.testing.assert_array_equal(lst, run(vocaset, audio[:4000])[0])
    # int16 goes through mimetic_stream_push_audio_i16: full scale is 32768
    i16 = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
    a, _ = run(vocaset, i16, list(chunks(i16, seed=7, ones=10)))
    b, _ = run(vocaset, i16.astype(np.float32) / 32768.0)
    assert a.shape == b.shape and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)


# -- bad inputs ------------------------------------------------------------------------------

def test_none_and_closed_handles(vocaset_path):
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Stream(None)  # type: ignore[arg-type]
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Stream("model.safetensors")  # type: ignore[arg-type]
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Stream.state_size(None)  # type: ignore[arg-type]
    m = mimetic.Model(vocaset_path)
    m.close()
    with pytest.raises(mimetic.InvalidArgumentError, match="closed"):
        mimetic.Stream(m)
    with pytest.raises(mimetic.InvalidArgumentError, match="closed"):
        mimetic.Stream.state_size(m)
    m = mimetic.Model(vocaset_path)
    s = mimetic.Stream(m)
    s.close()
    s.close()
    assert s.closed and "closed" in repr(s)
    for call in (lambda: s.push(np.zeros(10, np.float32)), s.frames_ready, s.pull, s.pull_all, s.flush, s.reset,
                 s.snapshot, lambda: s.restore(b"x"), lambda: s.set_style(0), lambda: s.set_style_code([0.0]),
                 lambda: s.stats):
        with pytest.raises(mimetic.InvalidArgumentError, match="closed"):
            call()
    m.close()  # no live streams left


def test_c_null_stream_handles():
    lib = _lib.lib
    n = ctypes.c_size_t()
    buf = (ctypes.c_float * 4)()
    st = mimetic.Status
    assert lib.mimetic_stream_push_audio(None, buf, 4) == st.INVALID_ARGUMENT
    assert mimetic.last_error()
    assert lib.mimetic_stream_push_audio_i16(None, (ctypes.c_int16 * 4)(), 4) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_frames_ready(None, ctypes.byref(n)) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_pull_frame(None, buf, 4, None) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_flush(None) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_reset(None) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_snapshot(None, buf, 16) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_restore(None, buf, 16) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_set_style_slot(None, 0) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_set_style_weights(None, buf, 4) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_set_style_code(None, buf, 4) == st.INVALID_ARGUMENT
    stats = _lib.sized(_lib.StreamStatsC)
    assert lib.mimetic_stream_get_stats(None, ctypes.byref(stats)) == st.INVALID_ARGUMENT
    p = _lib.sized(_lib.StreamParamsC)
    lib.mimetic_stream_params_init(ctypes.byref(p))
    assert lib.mimetic_stream_state_size(None, ctypes.byref(p), ctypes.byref(n)) == st.INVALID_ARGUMENT
    out = _lib.c_stream_p()
    assert lib.mimetic_stream_create(None, ctypes.byref(p), None, 0, ctypes.byref(out)) == st.INVALID_ARGUMENT
    assert not out.value
    lib.mimetic_stream_free(None)
    lib.mimetic_stream_params_init(None)  # must not crash? (the header does not say; NULL is harmless here)


def test_c_null_params_and_outs(vocaset):
    lib = _lib.lib
    st = mimetic.Status
    n = ctypes.c_size_t()
    p = _lib.sized(_lib.StreamParamsC)
    lib.mimetic_stream_params_init(ctypes.byref(p))
    assert p.struct_size == ctypes.sizeof(_lib.StreamParamsC)
    assert lib.mimetic_stream_state_size(vocaset.handle, None, ctypes.byref(n)) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_state_size(vocaset.handle, ctypes.byref(p), None) == st.INVALID_ARGUMENT
    out = _lib.c_stream_p()
    assert lib.mimetic_stream_create(vocaset.handle, None, None, 0, ctypes.byref(out)) == st.INVALID_ARGUMENT
    assert lib.mimetic_stream_create(vocaset.handle, ctypes.byref(p), None, 0, None) == st.INVALID_ARGUMENT
    bad = _lib.sized(_lib.StreamParamsC)
    lib.mimetic_stream_params_init(ctypes.byref(bad))
    bad.struct_size = 0
    assert lib.mimetic_stream_state_size(vocaset.handle, ctypes.byref(bad), ctypes.byref(n)) == st.INVALID_ARGUMENT
    with mimetic.Stream(vocaset) as s:
        assert lib.mimetic_stream_frames_ready(s._handle, None) == st.INVALID_ARGUMENT
        assert lib.mimetic_stream_push_audio(s._handle, None, 10) == st.INVALID_ARGUMENT
        assert lib.mimetic_stream_push_audio(s._handle, None, 0) == st.OK  # n == 0 is a no-op
        assert lib.mimetic_stream_get_stats(s._handle, None) == st.INVALID_ARGUMENT
        stats = _lib.StreamStatsC()  # struct_size 0
        assert lib.mimetic_stream_get_stats(s._handle, ctypes.byref(stats)) == st.INVALID_ARGUMENT


def test_zero_size_push_is_a_no_op(vocaset):
    with mimetic.Stream(vocaset) as s:
        for empty in (np.zeros(0, np.float32), np.zeros(0, np.float64), np.zeros(0, np.int16), []):
            s.push(empty)
        assert s.stats.samples_pushed == 0 and s.frames_ready() == 0 and s.pull() is None


@pytest.mark.parametrize("bad", [np.zeros((2, 100), np.float32), np.zeros((100, 1), np.float32),
                                 np.zeros((1, 100), np.int16), np.float32(0.5), np.zeros((0, 0), np.float32)])
def test_push_non_1d_is_an_error(vocaset, bad):
    with mimetic.Stream(vocaset) as s:
        with pytest.raises(mimetic.InvalidArgumentError, match="1-D"):
            s.push(bad)
        assert s.stats.samples_pushed == 0


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.complex64, np.bool_, object])
def test_push_wrong_dtype_is_an_error(vocaset, dtype):
    with mimetic.Stream(vocaset) as s:
        with pytest.raises(mimetic.InvalidArgumentError):
            s.push(np.zeros(100, dtype=dtype))


def test_pull_before_push_is_none(vocaset):
    with mimetic.Stream(vocaset) as s:
        assert s.frames_ready() == 0
        assert s.pull() is None
        o, infos = s.pull_all()
        assert o.shape == (0, vocaset.info.num_vertices, 3) and infos == []
        s.push(np.zeros(10, np.float32))  # too little for a frame
        assert s.pull() is None


def test_pull_capacity_too_small(vocaset, audio):
    lib = _lib.lib
    with mimetic.Stream(vocaset) as s:
        s.push(audio)
        s.flush()
        n = s.frames_ready()
        small = (ctypes.c_float * (vocaset.info.output_size - 1))()
        st = lib.mimetic_stream_pull_frame(s._handle, small, len(small), None)
        assert st == mimetic.Status.BUFFER_TOO_SMALL
        assert str(vocaset.info.output_size) in mimetic.last_error()
        assert s.frames_ready() == n  # the frame stays queued
        big = (ctypes.c_float * (vocaset.info.output_size + 5))(*([7.0] * (vocaset.info.output_size + 5)))
        assert lib.mimetic_stream_pull_frame(s._handle, big, len(big), None) == mimetic.Status.OK  # info may be NULL
        assert list(big[-5:]) == [7.0] * 5  # only output_size floats written
        assert s.frames_ready() == n - 1
        first = s.pull()
        assert first is not None and first[1].frame_index == 1


def test_pull_into_caller_array(vocaset, audio):
    ref, _ = run(vocaset, audio)
    with mimetic.Stream(vocaset) as s:
        s.push(audio)
        s.flush()
        out = np.full(vocaset.info.output_size + 3, 5.0, np.float32)
        o, fi = s.pull(out=out[:vocaset.info.output_size])
        assert fi.frame_index == 0 and np.shares_memory(o, out)
        np.testing.assert_array_equal(out[:-3], ref[0].reshape(-1))
        assert (out[-3:] == 5.0).all()
        grid = np.zeros((vocaset.info.num_vertices, 3), np.float32)  # any shape, output_size floats
        s.pull(out=grid)
        np.testing.assert_array_equal(grid, ref[1])
        with pytest.raises(mimetic.BufferTooSmallError, match=str(vocaset.info.output_size)):
            s.pull(out=np.zeros(vocaset.info.output_size - 1, np.float32))
        assert s.pull()[1].frame_index == 2  # the frame stayed queued
        with pytest.raises(mimetic.InvalidArgumentError):
            s.pull(out=np.zeros(vocaset.info.output_size, np.float64))
        with pytest.raises(mimetic.InvalidArgumentError):
            s.pull(out=np.zeros(2 * vocaset.info.output_size, np.float32)[::2])


def test_frame_info_struct_size_checked(vocaset, audio):
    lib = _lib.lib
    with mimetic.Stream(vocaset) as s:
        s.push(audio)
        s.flush()
        buf = (ctypes.c_float * vocaset.info.output_size)()
        fi = _lib.FrameInfoC()  # struct_size 0
        st = lib.mimetic_stream_pull_frame(s._handle, buf, len(buf), ctypes.byref(fi))
        assert st in (mimetic.Status.INVALID_ARGUMENT, mimetic.Status.OK)
        if st == mimetic.Status.INVALID_ARGUMENT:
            assert s.frames_ready() == offline_frames_vocaset(len(audio))  # nothing popped


@pytest.mark.parametrize("queue", [1, 4, 8, 64])
def test_queue_capacity(vocaset, audio, queue):
    """max_queued_frames: the library refuses a chunk that does not fit (BUFFER_TOO_SMALL, nothing
    consumed, never a drop), and the binding, which pushes any length, moves the ready frames to its
    backlog and goes on: pushing a whole long file and then pulling gives every frame, the same as
    pushing small chunks and pulling between them. A queue smaller than one encoder hop yields must
    either be refused at creation or still make progress, never wedge the stream."""
    long = np.tile(audio, 8)  # ~12.8 s, ~380 frames
    try:
        s = mimetic.Stream(vocaset, max_queued_frames=queue)
    except mimetic.InvalidArgumentError as e:
        assert "queued" in e.message.lower()
        return
    with s:
        assert s.params.max_queued_frames == queue
        # The library's own contract, through the C call: a chunk that cannot fit is refused whole.
        lib = _lib.lib
        big = np.ascontiguousarray(long)
        st = lib.mimetic_stream_push_audio(s._handle, big.ctypes.data_as(_lib.c_float_p), big.size)
        if st == mimetic.Status.BUFFER_TOO_SMALL:
            assert s.stats.samples_pushed == 0 and "max_queued_frames" in mimetic.last_error()
        else:
            assert st == mimetic.Status.OK and s.stats.samples_pushed == big.size
        s.reset()
        # The binding: everything at once, then everything out.
        for piece in np.array_split(long, 4):
            s.push(piece)
        assert s.stats.samples_pushed == len(long)
        assert s.frames_ready() > queue or queue >= 64
        s.flush()
        total, infos = s.pull_all()
        assert total.shape[0] == offline_frames_vocaset(len(long)) == len(infos)
        assert [i.frame_index for i in infos] == list(range(len(infos))) and infos[-1].is_final
        assert s.is_complete
        np.testing.assert_array_equal(total, run(vocaset, long, list(np.array_split(long, 40)), pull_between=True)[0])


def test_long_push_then_pull_one_by_one(vocaset, audio):
    """The backlog is handed out by pull() in order, before the library's queue; snapshots refuse while
    the binding holds frames the state does not contain; reset forgets them."""
    long = np.tile(audio, 6)
    with mimetic.Stream(vocaset, max_queued_frames=8) as s:
        s.push(long)
        assert s.frames_ready() > 8
        with pytest.raises(mimetic.WrongStateError, match="pull them first"):
            s.snapshot()
        s.flush()
        frames = []
        while (f := s.pull()) is not None:
            frames.append(f)
        assert [fi.frame_index for _, fi in frames] == list(range(offline_frames_vocaset(len(long))))
        assert all(o.shape == (vocaset.info.num_vertices, 3) for o, _ in frames)
        assert len(s.snapshot()) == s.snapshot_size
        s.reset()
        s.push(long)
        s.reset()
        assert s.frames_ready() == 0 and s.pull() is None


def test_reject_policy_consumes_nothing_of_a_long_push(vocaset, audio):
    long = np.tile(audio, 4).astype(np.float32)
    long[-10] = np.nan
    with mimetic.Stream(vocaset, sample_policy="reject") as s:
        with pytest.raises(mimetic.InvalidAudioError, match=f"sample {len(long) - 10}"):
            s.push(long)
        assert s.stats.samples_pushed == 0


def test_audio_capacity_huge_chunk(vocaset, audio):
    """A chunk larger than anything the state can buffer: the C call refuses it whole (an error, not a
    crash or a silent drop)."""
    huge = np.zeros(16000 * 600, np.float32)  # 10 minutes at once
    with mimetic.Stream(vocaset) as s:
        st = _lib.lib.mimetic_stream_push_audio(s._handle, huge.ctypes.data_as(_lib.c_float_p), huge.size)
        assert st == mimetic.Status.BUFFER_TOO_SMALL and s.stats.samples_pushed == 0
        assert "max_queued_frames" in mimetic.last_error()


@pytest.mark.parametrize("kwargs,words", [
    ({"sample_rate": 4000}, ["8000", "48000"]),
    ({"sample_rate": 96000}, ["8000", "48000"]),
    ({"sample_rate": 0}, ["8000"]),
    ({"lookahead_ms": 2001}, ["2000"]),
    ({"lookahead_ms": -1}, ["lookahead"]),
    ({"hop_ms": 0}, ["hop"]),
    ({"hop_ms": 5000}, ["hop"]),
    ({"left_context_ms": -5}, ["left"]),
    ({"max_queued_frames": 0}, ["queued"]),
    ({"max_queued_frames": -1}, ["queued"]),
    ({"style": 3}, ["style"]),
    ({"style": -2}, ["style"]),
])
def test_bad_params(vocaset, kwargs, words):
    if "lookahead_ms" in kwargs and kwargs["lookahead_ms"] > 0:
        kwargs = {"lookahead_ms": vocaset.info.max_lookahead_ms + 1}
        words = [str(vocaset.info.max_lookahead_ms)]
    makers = [lambda: mimetic.Stream(vocaset, **kwargs)]
    if "style" not in kwargs:  # the style does not change the size: state_size need not validate it
        makers.append(lambda: mimetic.Stream.state_size(vocaset, **kwargs))
    for make in makers:
        with pytest.raises(mimetic.InvalidArgumentError) as ei:
            make()
        assert ei.value.status == mimetic.Status.INVALID_ARGUMENT
        for w in words:
            assert w.lower() in ei.value.message.lower(), ei.value.message
    assert vocaset.live_streams == 0


def test_bad_params_python_side(vocaset):
    with pytest.raises(mimetic.InvalidArgumentError, match="32-bit"):
        mimetic.Stream(vocaset, sample_rate=2 ** 32 + 16000)
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Stream(vocaset, hop_ms=20.5)  # type: ignore[arg-type]
    with pytest.raises(mimetic.InvalidArgumentError, match="sample_policy"):
        mimetic.Stream(vocaset, sample_policy="ignore")
    with pytest.raises(mimetic.InvalidArgumentError, match="sample_policy"):
        mimetic.Stream(vocaset, sample_policy=7)
    with pytest.raises(mimetic.InvalidArgumentError, match="3 values"):
        mimetic.Stream(vocaset, style=[1.0, 0.0])
    with pytest.raises(mimetic.InvalidArgumentError, match="1-D"):
        mimetic.Stream(vocaset, style=np.eye(3))
    with pytest.raises(mimetic.InvalidArgumentError, match="not both"):
        mimetic.Stream(vocaset, style=1, style_code=np.zeros(vocaset.info.style_dim))
    with pytest.raises(mimetic.InvalidArgumentError, match=str(vocaset.info.style_dim)):
        mimetic.Stream(vocaset, style_code=[0.0] * (vocaset.info.style_dim + 1))
    assert vocaset.live_streams == 0


def test_params_defaults_and_policy(vocaset):
    d = mimetic.Stream.default_params()
    assert d.sample_rate == 16000
    assert vocaset.info.min_lookahead_ms <= d.lookahead_ms <= vocaset.info.max_lookahead_ms
    assert d.hop_ms > 0 and d.max_queued_frames > 0 and d.left_context_ms >= 0
    assert d.sample_policy == mimetic.SamplePolicy.SANITIZE
    with mimetic.Stream(vocaset, sample_policy="REJECT", lookahead_ms=0) as s:
        assert s.params.sample_policy == mimetic.SamplePolicy.REJECT and s.params.lookahead_ms == 0
    with mimetic.Stream(vocaset, sample_policy=mimetic.SamplePolicy.REJECT, lookahead_ms=vocaset.info.max_lookahead_ms):
        pass


def _dirty(audio: np.ndarray) -> np.ndarray:
    a = audio.copy()
    a[100] = np.nan
    a[2000:2010] = np.inf
    a[5000] = -np.inf
    a[7000] = 1e30
    a[7001] = -3.0
    a[9000:9100] = np.nan
    return a


def test_sanitize_repairs_and_counts(vocaset, audio):
    dirty = _dirty(audio)
    bad = int((~np.isfinite(dirty)).sum() + (np.abs(dirty[np.isfinite(dirty)]) > 1).sum())
    with mimetic.Stream(vocaset, sample_policy="sanitize") as s:
        for piece in chunks(dirty, seed=8, ones=200):
            s.push(piece)
        s.flush()
        o, _ = s.pull_all()
        assert np.isfinite(o).all() and o.shape[0] == offline_frames_vocaset(len(audio))
        st = s.stats
        assert st.samples_repaired == bad
        assert st.samples_pushed == len(dirty)
        assert st.frames_emitted == o.shape[0]
    # the repaired stream equals pushing the repaired samples
    clean = np.clip(np.nan_to_num(dirty, nan=0.0, posinf=1.0, neginf=-1.0), -1, 1).astype(np.float32)
    np.testing.assert_array_equal(o, run(vocaset, clean)[0])
    # int16 is always in range: nothing to repair
    with mimetic.Stream(vocaset) as s:
        s.push(np.full(1000, -32768, np.int16))
        assert s.stats.samples_repaired == 0


def test_reject_policy(vocaset, audio):
    with mimetic.Stream(vocaset, sample_policy="reject") as s:
        s.push(audio[:3000])
        for bad in (np.nan, np.inf, -np.inf):
            chunk = audio[3000:6000].copy()
            chunk[1234] = bad
            with pytest.raises(mimetic.InvalidAudioError) as ei:
                s.push(chunk)
            assert ei.value.status == mimetic.Status.INVALID_AUDIO and ei.value.message
            assert s.stats.samples_pushed == 3000  # nothing of the chunk consumed
        s.push(audio[3000:])
        s.flush()
        o, _ = s.pull_all()
    np.testing.assert_array_equal(o, run(vocaset, audio)[0])  # the rejected chunks left no trace


def test_reject_policy_out_of_range_finite(vocaset, audio):
    """Finite out-of-range values are not NaN/Inf: under "reject" they must not poison the output."""
    loud = audio * 1e6
    with mimetic.Stream(vocaset, sample_policy="reject") as s:
        try:
            s.push(loud)
        except mimetic.InvalidAudioError:
            return
        s.flush()
        o, _ = s.pull_all()
        assert np.isfinite(o).all()


def test_push_after_flush_is_wrong_state(vocaset, audio):
    with mimetic.Stream(vocaset) as s:
        s.push(audio[:8000])
        s.flush()
        with pytest.raises(mimetic.WrongStateError) as ei:
            s.push(audio[8000:9000])
        assert ei.value.status == mimetic.Status.WRONG_STATE and "flush" in ei.value.message.lower()
        with pytest.raises(mimetic.WrongStateError):
            s.push(np.zeros(10, np.int16))
        s.pull_all()


def test_reset_then_push(vocaset, audio):
    ref, ref_infos = run(vocaset, audio)
    with mimetic.Stream(vocaset) as s:
        s.push(audio[:10000])
        s.flush()
        s.pull()
        s.reset()
        assert s.frames_ready() == 0 and s.pull() is None
        assert s.stats.samples_pushed == 0
        for piece in chunks(audio, seed=9, ones=0):
            s.push(piece)
        s.flush()
        o, infos = s.pull_all()
    np.testing.assert_array_equal(o, ref)
    assert infos == ref_infos
    with mimetic.Stream(vocaset) as s:  # reset mid-utterance, without flush
        s.push(audio[:5000])
        s.frames_ready()
        s.reset()
        s.push(audio)
        s.flush()
        np.testing.assert_array_equal(s.pull_all()[0], ref)


def test_reset_keeps_style(vocaset, audio):
    ref1, _ = run(vocaset, audio, style=1)
    with mimetic.Stream(vocaset, style=0) as s:
        s.set_style(1)
        s.push(audio[:3000])
        s.reset()
        s.push(audio)
        s.flush()
        np.testing.assert_array_equal(s.pull_all()[0], ref1)


def test_snapshot_restore_reproduces_next_frames(vocaset, audio):
    half = 12000
    with mimetic.Stream(vocaset) as s:
        s.push(audio[:half])
        first, _ = s.pull_all()
        snap = s.snapshot()
        assert isinstance(snap, bytes) and len(snap) == s.snapshot_size == mimetic.Stream.state_size(vocaset)
        s.push(audio[half:])
        s.flush()
        a, ia = s.pull_all()
        st_a = s.stats
        s.restore(snap)
        assert s.snapshot() == snap
        s.push(audio[half:])
        s.flush()
        b, ib = s.pull_all()
    np.testing.assert_array_equal(a, b)
    assert ia == ib
    assert len(ia) > 0 and ia[0].frame_index == len(first)
    # into another stream of the same model and params
    with mimetic.Stream(vocaset) as t:
        t.restore(bytearray(snap))
        t.push(audio[half:])
        t.flush()
        c, ic = t.pull_all()
        assert t.stats.samples_pushed == st_a.samples_pushed
    np.testing.assert_array_equal(a, c)
    assert ic == ia
    # and the whole run equals the straight one
    np.testing.assert_array_equal(np.concatenate([first, a]), run(vocaset, audio)[0])


def test_restore_bad_snapshots(vocaset, audio):
    with mimetic.Stream(vocaset) as s:
        snap = s.snapshot()
        with pytest.raises(mimetic.MimeticError) as ei:
            s.restore(snap[:-1])
        assert ei.value.status in (mimetic.Status.INVALID_ARGUMENT, mimetic.Status.BUFFER_TOO_SMALL)
        with pytest.raises(mimetic.MimeticError):
            s.restore(b"")
        with pytest.raises(mimetic.InvalidArgumentError):
            s.restore(None)
        with mimetic.Stream(vocaset, lookahead_ms=vocaset.info.max_lookahead_ms, hop_ms=200) as other:
            other_snap = other.snapshot()
        if len(other_snap) != len(snap):
            with pytest.raises(mimetic.MimeticError):
                s.restore(other_snap)
        # still usable after failed restores
        s.push(audio)
        s.flush()
        np.testing.assert_array_equal(s.pull_all()[0], run(vocaset, audio)[0])


def test_restore_garbage_does_not_crash(vocaset_path):
    """Random bytes of the right size: an error or a usable stream, never a crash (run in a subprocess)."""
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(PACKAGE_ROOT)!r})
        import numpy as np, mimetic
        m = mimetic.Model({str(vocaset_path)!r})
        s = mimetic.Stream(m)
        rng = np.random.default_rng(0)
        for trial in range(5):
            junk = rng.integers(0, 256, s.snapshot_size, dtype=np.uint8).tobytes()
            try:
                s.restore(junk)
                s.push(np.zeros(1600, np.float32)); s.frames_ready(); s.pull_all(); s.flush(); s.pull_all()
            except mimetic.MimeticError as e:
                pass
            s.reset()
        print("survived")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "survived" in r.stdout, (r.returncode, r.stderr[-2000:])


# -- styles ------------------------------------------------------------------------------------

def test_style_slots_differ(vocaset, audio):
    outs = [run(vocaset, audio, style=k)[0] for k in range(vocaset.info.num_styles)]
    for k in range(1, len(outs)):
        assert not np.array_equal(outs[0], outs[k])
    default = run(vocaset, audio)[0]
    assert any(np.array_equal(default, o) for o in outs)


def test_style_weights_equal_one_hot(vocaset, audio):
    one_hot = np.zeros(vocaset.info.num_styles, np.float32)
    one_hot[1] = 1
    np.testing.assert_allclose(run(vocaset, audio, style=one_hot)[0], run(vocaset, audio, style=1)[0], atol=1e-6)
    blend = run(vocaset, audio, style=[0.5, 0.5, 0.0])[0]
    assert np.isfinite(blend).all()


def test_style_switch_at_run_time(vocaset, audio):
    base, _ = run(vocaset, audio, style=0)
    other, _ = run(vocaset, audio, style=2)
    with mimetic.Stream(vocaset, style=0) as s:
        s.push(audio[:12000])
        head, _ = s.pull_all()
        assert 0 < len(head) < len(base)
        s.set_style(2)
        s.push(audio[12000:])
        s.flush()
        tail, _ = s.pull_all()
    out = np.concatenate([head, tail])
    assert out.shape == base.shape
    np.testing.assert_array_equal(head, base[:len(head)])  # frames computed before the switch
    assert not np.array_equal(tail, base[len(head):])     # the switch took effect
    # FaceFormer's decoder is autoregressive: after the switch the output need not equal a pure
    # style-2 run, but it must have moved away from style 0
    assert np.abs(tail - base[len(head):]).max() > 0
    del other
    with mimetic.Stream(vocaset) as s:
        s.set_style([0.0, 0.0, 1.0])
        s.set_style(np.int64(1))
        with pytest.raises(mimetic.InvalidArgumentError):
            s.set_style(vocaset.info.num_styles)
        with pytest.raises(mimetic.InvalidArgumentError):
            s.set_style(-1)
        with pytest.raises(mimetic.InvalidArgumentError):
            s.set_style([1.0, 0.0])
        with pytest.raises(mimetic.InvalidArgumentError):
            s.set_style(None)  # type: ignore[arg-type]
        with pytest.raises(mimetic.InvalidArgumentError):
            s.set_style_code([0.0] * (vocaset.info.style_dim + 3))


def test_mimic_style_code(mimic, audio, expected):
    dim = mimic.info.style_dim
    from_motion = mimic.style_from_motion(expected("mimic_conv")["style_offsets"])
    c, _ = run(mimic, audio, list(chunks(audio, seed=11, ones=100)), style_code=from_motion)
    assert np.isfinite(c).all() and c.shape[0] == expected("mimic_conv")["offsets"].shape[0]
    rng = np.random.default_rng(0)
    code = rng.standard_normal(dim).astype(np.float32)
    a, _ = run(mimic, audio, style_code=code)
    b, _ = run(mimic, audio, style_code=np.zeros(dim, np.float32))
    assert np.isfinite(a).all() and np.isfinite(b).all()
    assert not np.array_equal(a, b)
    if mimic.info.num_styles == 0:
        with pytest.raises(mimetic.InvalidArgumentError, match="style"):
            mimetic.Stream(mimic)  # no shipped style code: one must be given
    with mimetic.Stream(mimic, style_code=np.zeros(dim, np.float32)) as s:
        s.set_style_code(code)
        s.push(audio)
        s.flush()
        np.testing.assert_array_equal(s.pull_all()[0], a)
    with mimetic.Stream(mimic, style_code=code) as s:
        with pytest.raises(mimetic.InvalidArgumentError):
            s.set_style_code(code[:-1])
        with pytest.raises(mimetic.InvalidArgumentError):
            s.set_style_code(np.stack([code, code]))


# -- caller-provided state buffers -------------------------------------------------------------

def test_state_buffer_in_place(vocaset, audio):
    ref, _ = run(vocaset, audio)
    size = mimetic.Stream.state_size(vocaset)
    assert size > 0
    buf = mimetic.aligned_buffer(size)
    assert buf.ctypes.data % mimetic.STATE_ALIGNMENT == 0 and buf.nbytes == size
    with mimetic.Stream(vocaset, state_buffer=buf) as s:
        s.push(audio[:9000])
        s.frames_ready()
        # The state lives in the caller's buffer: a snapshot is that buffer, sealed with its
        # checksum in bytes 16..23 (0 in a live stream).
        snap = s.snapshot()
        assert bytes(buf)[:16] + bytes(buf)[24:] == snap[:16] + snap[24:]
        assert bytes(buf)[16:24] == bytes(8) and snap[16:24] != bytes(8)
        s.push(audio[9000:])
        s.flush()
        o, _ = s.pull_all()
    np.testing.assert_array_equal(o, ref)


def test_state_buffer_bytearray_unaligned_with_slack(vocaset, audio):
    ref, _ = run(vocaset, audio)
    size = mimetic.Stream.state_size(vocaset)
    ba = bytearray(size + mimetic.STATE_ALIGNMENT - 1)
    with mimetic.Stream(vocaset, state_buffer=ba) as s:
        with pytest.raises(BufferError):
            ba.extend(b"x")  # exported while the stream lives
        s.push(audio)
        s.flush()
        np.testing.assert_array_equal(s.pull_all()[0], ref)
    ba.extend(b"x")  # released on close


def test_state_buffer_too_small_names_size(vocaset):
    size = mimetic.Stream.state_size(vocaset)
    # aligned but short: the library's own check
    with pytest.raises(mimetic.MimeticError) as ei:
        mimetic.Stream(vocaset, state_buffer=mimetic.aligned_buffer(size - 1))
    assert ei.value.status in (mimetic.Status.BUFFER_TOO_SMALL, mimetic.Status.INVALID_ARGUMENT)
    assert str(size) in ei.value.message, ei.value.message
    with pytest.raises(mimetic.MimeticError) as ei:
        mimetic.Stream(vocaset, state_buffer=mimetic.aligned_buffer(0))
    assert str(size) in ei.value.message
    # unaligned and short: caught by the binding
    raw = np.zeros(size + 64, np.uint8)
    off = (-raw.ctypes.data) % 64 + 1
    with pytest.raises(mimetic.BufferTooSmallError) as ei:
        mimetic.Stream(vocaset, state_buffer=raw[off:off + size])
    assert str(size) in ei.value.message
    assert vocaset.live_streams == 0


def test_state_buffer_bad_kinds(vocaset):
    size = mimetic.Stream.state_size(vocaset)
    with pytest.raises(mimetic.InvalidArgumentError, match="read-only"):
        mimetic.Stream(vocaset, state_buffer=bytes(size + 64))
    ro = mimetic.aligned_buffer(size)
    ro.flags.writeable = False
    with pytest.raises(mimetic.InvalidArgumentError, match="read-only"):
        mimetic.Stream(vocaset, state_buffer=ro)
    with pytest.raises(mimetic.InvalidArgumentError, match="contiguous"):
        mimetic.Stream(vocaset, state_buffer=np.zeros(2 * size + 128, np.uint8)[::2])
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Stream(vocaset, state_buffer=12345)


def test_c_create_with_misaligned_buffer(vocaset):
    """The header asks for a 64-byte-aligned buffer: the library must refuse another, not crash."""
    size = mimetic.Stream.state_size(vocaset)
    raw = mimetic.aligned_buffer(size + 64)
    p = _lib.sized(_lib.StreamParamsC)
    _lib.lib.mimetic_stream_params_init(ctypes.byref(p))
    out = _lib.c_stream_p()
    st = _lib.lib.mimetic_stream_create(vocaset.handle, ctypes.byref(p), raw.ctypes.data + 8, size, ctypes.byref(out))
    if st == mimetic.Status.OK:
        _lib.lib.mimetic_stream_free(out)
    assert st == mimetic.Status.INVALID_ARGUMENT and "align" in mimetic.last_error().lower()


def test_state_size_depends_on_params(vocaset):
    small = mimetic.Stream.state_size(vocaset, lookahead_ms=0, max_queued_frames=6)
    big = mimetic.Stream.state_size(vocaset, lookahead_ms=vocaset.info.max_lookahead_ms, max_queued_frames=1000)
    assert 0 < small <= big


# -- stats, threads -------------------------------------------------------------------------------

def test_stats(vocaset, audio):
    with mimetic.Stream(vocaset) as s:
        s.push(audio[:1000])
        s.push(audio[1000:].astype(np.float64))
        s.flush()
        o, _ = s.pull_all()
        st = s.stats
        assert st.samples_pushed == len(audio) and st.frames_emitted == len(o) and st.samples_repaired == 0
        assert st.encoder_seconds >= 0 and st.decoder_seconds >= 0
        assert st.encoder_seconds + st.decoder_seconds > 0
        s.reset()
        assert s.stats.samples_pushed == 0


def test_push_and_pull_from_different_threads(vocaset, audio):
    ref, _ = run(vocaset, audio)
    with mimetic.Stream(vocaset) as s:
        got: List[np.ndarray] = []
        done = threading.Event()

        def consumer():
            while True:
                finished = done.is_set()
                f = s.pull()
                if f is not None:
                    got.append(f[0])
                elif finished:
                    return
        t = threading.Thread(target=consumer)
        t.start()
        for piece in chunks(audio, seed=10, ones=100):
            s.push(piece)
        s.flush()
        done.set()
        t.join()
    np.testing.assert_array_equal(np.stack(got), ref)


def test_streams_in_parallel(vocaset, audio):
    refs = [run(vocaset, audio, style=k)[0] for k in range(3)]
    results: List[Optional[np.ndarray]] = [None] * 6
    errors: List[BaseException] = []

    def work(i):
        try:
            results[i] = run(vocaset, audio, list(chunks(audio, seed=i, ones=10)), style=i % 3)[0]
        except BaseException as e:  # pragma: no cover
            errors.append(e)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, r in enumerate(results):
        np.testing.assert_array_equal(r, refs[i % 3])


# -- lifetimes: a model with live streams ------------------------------------------------------------

def test_model_close_with_live_stream_raises_and_keeps_model(vocaset_path, audio):
    m = mimetic.Model(vocaset_path)
    s = mimetic.Stream(m)
    assert m.live_streams == 1 and s.model is m
    with pytest.raises(mimetic.WrongStateError, match="still open") as ei:
        m.close()
    assert ei.value.status == mimetic.Status.WRONG_STATE
    assert not m.closed and m.info.fps == 30  # the model stays usable
    s.push(audio)
    s.flush()
    assert s.pull_all()[0].shape[0] == offline_frames_vocaset(len(audio))
    with mimetic.Stream(m) as s2:  # new streams are still allowed
        s2.push(audio[:100])
    s.close()
    assert m.live_streams == 0
    m.close()
    assert m.closed


def test_model_deferred_close(vocaset_path, audio):
    m = mimetic.Model(vocaset_path)
    s = mimetic.Stream(m)
    m.close(defer=True)
    assert m.closed and m._handle is not None  # freed later
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.Stream(m)
    with pytest.raises(mimetic.InvalidArgumentError):
        m.info
    s.push(audio)
    s.flush()
    assert np.isfinite(s.pull_all()[0]).all()
    s.close()
    assert m._handle is None  # the last stream freed the model


def test_model_with_block_and_gc(vocaset_path, audio):
    with pytest.raises(mimetic.WrongStateError, match="still open"):
        with mimetic.Model(vocaset_path) as m:
            s = mimetic.Stream(m)
    s.close()
    m.close()
    # an exception leaving the block is not masked: the close is deferred instead
    with pytest.raises(KeyError):
        with mimetic.Model(vocaset_path) as m:
            s = mimetic.Stream(m)
            raise KeyError("boom")
    assert m.closed and m._handle is not None
    s.close()
    assert m._handle is None
    # dropping the model's last Python reference: the stream keeps it alive
    s = mimetic.Stream(mimetic.Model(vocaset_path))
    gc.collect()
    s.push(audio)
    s.flush()
    assert s.pull_all()[0].shape[0] > 0
    model = s.model
    del s
    gc.collect()
    assert model.live_streams == 0
    model.close()


def test_c_model_free_refuses_with_live_streams(vocaset_path):
    """The C contract itself (run in a subprocess in case it frees anyway)."""
    code = textwrap.dedent(f"""
        import sys, ctypes; sys.path.insert(0, {str(PACKAGE_ROOT)!r})
        import numpy as np, mimetic
        from mimetic import _lib
        lib = _lib.lib
        m = _lib.c_model_p()
        assert lib.mimetic_model_load({str(vocaset_path).encode()!r}, ctypes.byref(m)) == 0
        p = _lib.sized(_lib.StreamParamsC); lib.mimetic_stream_params_init(ctypes.byref(p))
        s = _lib.c_stream_p()
        assert lib.mimetic_stream_create(m, ctypes.byref(p), None, 0, ctypes.byref(s)) == 0
        st = lib.mimetic_model_free(m)  # must refuse: streams alive
        print("status:", st)
        print("message:", mimetic.last_error())
        info = _lib.sized(_lib.ModelInfoC)
        assert lib.mimetic_model_get_info(m, ctypes.byref(info)) == 0 and info.fps == 30
        x = np.zeros(16000, np.float32)
        assert lib.mimetic_stream_push_audio(s, x.ctypes.data_as(_lib.c_float_p), len(x)) == 0
        n = ctypes.c_size_t(); assert lib.mimetic_stream_frames_ready(s, ctypes.byref(n)) == 0
        lib.mimetic_stream_free(s)
        assert lib.mimetic_model_free(m) == 0
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "ok" in r.stdout, (r.returncode, r.stdout, r.stderr[-2000:])
    assert f"status: {int(mimetic.Status.WRONG_STATE)}" in r.stdout, r.stdout
    msg = r.stdout.split("message:", 1)[1].split("\n", 1)[0]
    assert "stream" in msg.lower(), msg


def test_process_batch_equals_each_stream_alone(audio):
    """mimetic.process_batch: twenty real-time-encoder streams (two tiles of the shared product),
    different styles and audio; every frame equals the same stream alone, bit for bit."""
    model = mimetic.Model(str(fixture_path("realtime_imitator")))
    n = 20
    alone = [mimetic.Stream(model, style=i % model.info.num_styles) for i in range(n)]
    batched = [mimetic.Stream(model, style=i % model.info.num_styles) for i in range(n)]
    compared = 0
    for step in range(0, 16000, 400):
        for i in range(n):
            piece = audio[(step + 53 * i) % 8000:][:400]
            alone[i].push(piece)
            batched[i].push(piece)
        mimetic.process_batch(batched)
        for a, b in zip(alone, batched):
            while (fa := a.pull()) is not None:
                fb = b.pull()
                assert fb is not None and fb[1].frame_index == fa[1].frame_index
                assert np.array_equal(fa[0], fb[0])
                compared += 1
            assert b.pull() is None
    assert compared > n * 10
    mimetic.process_batch([])  # nothing to do


def test_process_batch_errors(vocaset, audio):
    model = mimetic.Model(str(fixture_path("realtime_imitator")))
    s, t = mimetic.Stream(model), mimetic.Stream(model)
    with pytest.raises(mimetic.InvalidArgumentError, match="twice"):
        mimetic.process_batch([s, t, s])
    with pytest.raises(mimetic.InvalidArgumentError, match="another model"):
        mimetic.process_batch([s, mimetic.Stream(vocaset)])
    with pytest.raises(mimetic.InvalidArgumentError, match="not a Stream"):
        mimetic.process_batch([s, "t"])  # type: ignore[list-item]
    s.push(audio[:8000])
    mimetic.process_batch([s, t])
    assert s.pull() is not None
