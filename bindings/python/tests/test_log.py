"""The process-wide log callback."""
from __future__ import annotations

import threading

import pytest

import mimetic

from mimetic_testutil import requires_streaming

pytestmark = requires_streaming


@pytest.fixture()
def records():
    got = []

    def cb(level, message):
        got.append((level, message, threading.get_ident()))
    previous = mimetic.set_log_callback(cb)
    try:
        yield got
    finally:
        mimetic.set_log_callback(previous)


def test_failures_are_logged(records, vocaset):
    with pytest.raises(mimetic.InvalidArgumentError) as ei:
        mimetic.Stream(vocaset, sample_rate=4000)
    errors = [r for r in records if r[0] == mimetic.LogLevel.ERROR]
    assert errors and errors[-1][1] == ei.value.message
    assert isinstance(errors[-1][0], mimetic.LogLevel)
    n = len(records)
    with pytest.raises(mimetic.MimeticIOError) as ei:
        mimetic.Model("/nonexistent/x.safetensors")
    assert records[n:] and records[-1][1] == ei.value.message


def test_not_ready_is_not_logged(records, vocaset):
    with mimetic.Stream(vocaset) as s:
        n = len(records)
        assert s.pull() is None
        assert [r for r in records[n:] if r[0] == mimetic.LogLevel.ERROR] == []


def test_callback_from_other_thread(records):
    def worker():
        try:
            mimetic.Model("/nonexistent/thread.safetensors")
        except mimetic.MimeticError:
            pass
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    hits = [r for r in records if "thread.safetensors" in r[1]]
    assert hits and hits[-1][2] == t.ident


def test_remove_and_replace(vocaset):
    got = []
    mimetic.set_log_callback(lambda lvl, msg: got.append(msg))
    assert mimetic.get_log_callback() is not None
    previous = mimetic.set_log_callback(None)
    assert previous is not None and mimetic.get_log_callback() is None
    with pytest.raises(mimetic.MimeticError):
        mimetic.Model("/nonexistent/y.safetensors")
    assert got == []
    with pytest.raises(mimetic.InvalidArgumentError):
        mimetic.set_log_callback(42)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_raising_callback_does_not_break_calls(vocaset):
    def bad(level, message):
        raise RuntimeError("callback failure")
    previous = mimetic.set_log_callback(bad)
    try:
        with pytest.raises(mimetic.MimeticIOError) as ei:
            mimetic.Model("/nonexistent/z.safetensors")
        assert "z.safetensors" in ei.value.message  # last_error not disturbed by the callback
    finally:
        mimetic.set_log_callback(previous)
