"""Training smoke tests (CI, < 60 s on 2 cores) and metric unit tests.

A tiny fake corpus in the docs/corpus.md v1 file format (mimetic_tools/training/fake_corpus.py) and
tiny model sizes: each family trains a few steps and its loss decreases, checkpoint + resume gives
bit-identical parameters, the export is a valid model file that loads back into PyTorch with the same
predictions, the incremental decoder equals the originals' recompute-the-prefix loop, and (when the
CLI is built) `mimetic info` / `animate` accept the file and agree with PyTorch. Metrics: LVE, MVE,
FDD, DTW and lip opening on hand-made arrays with known answers.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch


from mimetic_tools.evaluation import metrics as M
from mimetic_tools.evaluation.evaluate import (agreement, eval_keys, evaluate_model_file,
                                               find_cli, torch_predictions)
from mimetic_tools.reference import run_reference
from mimetic_tools.training import losses as L
from mimetic_tools.training.export import load_model_file, validate_model_file
from mimetic_tools.training.fake_corpus import write_fake_corpus
from mimetic_tools.training.trainer import TrainConfig, Trainer

FAMILIES = ["faceformer", "imitator", "mimic"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    torch.set_num_threads(1)  # tiny models: one thread is as fast, and never spins against other jobs
    return str(write_fake_corpus(tmp_path_factory.mktemp("corpus"), num_vertices=30, speakers=(3, 1, 2),
                                 sentences=(3, 1), seed=1))


def tiny(corpus, out, family, **kw) -> TrainConfig:
    base = dict(corpus=corpus, out=str(out), family=family, encoder_size="tiny", decoder_size="tiny", steps=20,
                batch_size=3, window=30, lr=3e-3, warmup=0, log_every=1000, eval_every=0, ckpt_every=0, quiet=True,
                seed=3, threads=1)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """One short run per family (shared by the tests below): (trainer, loss before, loss after)."""
    out = {}
    for fam in FAMILIES:
        tr = Trainer(tiny(corpus, tmp_path_factory.mktemp(fam), fam, steps=25, decoding="scheduled"))
        batch = tr.fixed_batch()
        before = tr.eval_loss(batch)
        tr.fit()
        after = tr.eval_loss(batch)
        out[fam] = (tr, before, after)
    return out


# ----------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_loss_decreases(trained, family):
    tr, before, after = trained[family]
    assert np.isfinite(after["loss"])
    assert after["loss"] < 0.8 * before["loss"], (before, after)
    if family != "imitator":  # Imitator's total is dominated by the lip-closure term at first
        assert after["rec"] < 0.9 * before["rec"], (before, after)
    if family == "imitator":
        assert {"rec", "vel", "mbp", "lip"} <= set(after)
    if family == "mimic":
        assert {"rec", "rec_content", "style_cls", "grl", "clip", "style_cycle", "content_cycle"} <= set(after)
    log = [json.loads(l) for l in (Path(tr.tc.out) / "log.jsonl").read_text().splitlines()]
    assert log and log[-1]["step"] == 25 and "loss" in log[-1]


def test_lip_contact_switch(corpus, tmp_path):
    on = Trainer(tiny(corpus, tmp_path / "on", "imitator"))
    off = Trainer(tiny(corpus, tmp_path / "off", "imitator", mbp=False, lip_closure=False))
    b = on.fixed_batch()
    lo, lf = on.eval_loss(b), off.eval_loss(b)
    assert "lip" in lo and "mbp" in lo and "lip" not in lf and "mbp" not in lf
    assert lo["loss"] == pytest.approx(lo["rec"] + 10 * lo["vel"] + lo["mbp"] + lo["lip"], rel=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_resume_reproduces(corpus, tmp_path, family):
    cfg = dict(steps=4, decoding="scheduled", ss_start=0.0, ss_end=1.0, dropout=0.1)
    a = Trainer(tiny(corpus, tmp_path / "a", family, **cfg))
    a.fit()
    b = Trainer(tiny(corpus, tmp_path / "b", family, **cfg))
    b.fit(2)
    ck = b.checkpoint()
    c = Trainer(tiny(corpus, tmp_path / "b", family, **cfg), resume=str(ck))
    assert c.step == 2
    c.fit()
    sa, sc = a.model.state_dict(), c.model.state_dict()
    assert sa.keys() == sc.keys()
    for k in sa:
        assert torch.equal(sa[k], sc[k]), k
    oa, oc = a.opt.state_dict()["state"], c.opt.state_dict()["state"]
    for k in oa:
        assert torch.equal(oa[k]["exp_avg"], oc[k]["exp_avg"])


def test_teacher_forcing_matches_autoregression(trained):
    """Feeding a model's own AR output as the teacher-forcing target reproduces that output: the parallel
    pass and the incremental loop compute the same function."""
    for fam in ("faceformer", "mimic"):
        tr = trained[fam][0]
        m = tr.model.eval()
        b = tr.fixed_batch()
        with torch.no_grad():
            W = b.offsets.shape[1]
            mem = m.audio_features(b.audio, W)
            s = m.style_vector(b.speaker) if fam == "faceformer" else m.style_code(b.offsets)
            y_ar, _ = m.decode(mem, style=s, init=b.init, mode="ar")
            y_tf, _ = m.decode(mem, style=s, init=b.init, mode="teacher", target=y_ar)
        assert torch.allclose(y_ar, y_tf, atol=1e-5, rtol=1e-4)
        m.train()


@pytest.mark.parametrize("family", FAMILIES)
def test_incremental_decoder_equals_reference_loop(trained, family):
    """TrainModel.predict (batched, KV-cached) == the reference module's predict (the originals' loop)."""
    tr = trained[family][0]
    m = tr.model.eval()
    clip = tr.corpus.clip(tr.corpus.clip_keys(speaker_split="test")[0])
    if family == "mimic":
        ref = clip.offsets(tr.rig) * tr.scale
        ours = m.predict(clip.audio, style_offsets=ref).numpy()
        theirs = run_reference(m.net, clip.audio, style_offsets=ref[-m.cfg.style_window:])["offsets"]
    else:
        ours = m.predict(clip.audio, style=1).numpy()
        theirs = run_reference(m.net, clip.audio, style=1)["offsets"]
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=2e-5 * max(1.0, float(np.abs(theirs).max())), rtol=1e-4)
    m.train()


@pytest.mark.parametrize("family", FAMILIES)
def test_export_validates_and_round_trips(trained, tmp_path, family):
    tr = trained[family][0]
    path = tmp_path / f"{family}.safetensors"
    cfg = tr.export(str(path))
    assert validate_model_file(path)["family"] == family
    from safetensors.numpy import load_file

    t = load_file(str(path))
    np.testing.assert_array_equal(t["template"], tr.rig.template)
    np.testing.assert_array_equal(t["triangles"], tr.rig.triangles)
    np.testing.assert_array_equal(t["lip_vertices"], tr.rig.lip_vertices)
    np.testing.assert_array_equal(t["lip_pairs"], np.stack([tr.rig.lip_upper, tr.rig.lip_lower]))
    assert cfg["styles"]["names"] == tr.train_speakers
    if family == "mimic":
        assert t["style_codes"].shape == (len(tr.train_speakers), tr.mc.d_model)
    keys = eval_keys(tr.corpus, "test", max_clips=2)
    live = torch_predictions(tr.model, tr.corpus, keys, scale=tr.scale)
    loaded, _ = load_model_file(path)
    back = torch_predictions(loaded, tr.corpus, keys, scale=1.0)
    ag = agreement(live, back)
    assert ag["frame_count_mismatches"] == 0 and ag["max_rel"] < 1e-4, ag


CLI = find_cli()


@pytest.mark.skipif(CLI is None, reason="the mimetic CLI is not built (swift build -c release)")
@pytest.mark.parametrize("family", FAMILIES)
def test_cli_accepts_export(trained, tmp_path, family):
    tr = trained[family][0]
    path = tmp_path / f"{family}.safetensors"
    tr.export(str(path))
    r = subprocess.run([CLI, "info", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert family in r.stdout.lower()
    keys = eval_keys(tr.corpus, "test", max_clips=2)
    res = evaluate_model_file(str(path), tr.corpus, keys, backend="both", cli=CLI)
    assert res["agreement"]["ok"], res["agreement"]


def test_realtime_encoder_trains_and_exports(corpus, tmp_path):
    """The pluggable encoder: the real-time causal encoder trains, exports through the converter
    (alignment 'native') and loads back with the same predictions (and the CLI agrees when built)."""
    tr = Trainer(tiny(corpus, tmp_path / "rt", "imitator", encoder="realtime", steps=12))
    b = tr.fixed_batch()
    before = tr.eval_loss(b)
    tr.fit()
    assert tr.eval_loss(b)["loss"] < before["loss"]
    path = tmp_path / "rt.safetensors"
    cfg = tr.export(str(path))
    assert cfg["encoder"]["type"] == "realtime" and cfg["alignment"]["mode"] == "native"
    validate_model_file(path)
    keys = eval_keys(tr.corpus, "test", max_clips=2)
    live = torch_predictions(tr.model, tr.corpus, keys, scale=tr.scale)
    loaded, _ = load_model_file(path)
    ag = agreement(live, torch_predictions(loaded, tr.corpus, keys))
    assert ag["frame_count_mismatches"] == 0 and ag["max_rel"] < 1e-4, ag
    if CLI is not None:
        res = evaluate_model_file(str(path), tr.corpus, keys, backend="both", cli=CLI)
        assert res["agreement"]["ok"], res["agreement"]


def test_cli_tools_smoke(tmp_path):
    """mimetic-train (fake corpus, resume, export), mimetic-evaluate, mimetic-report end to end."""
    from mimetic_tools.cli import evaluate as evaluate_cli, report as report_cli, train as train_cli

    c, o = tmp_path / "corpus", tmp_path / "run"
    common = ["--encoder-size", "tiny", "--decoder-size", "tiny", "--batch-size", "2", "--window", "20",
              "--eval-every", "2", "--eval-clips", "1", "--ckpt-every", "2", "--quiet", "--threads", "1"]
    assert train_cli.main(["--fake-corpus", "--corpus", str(c), "--out", str(o), "--family", "imitator",
                           "--steps", "2", "--no-lip-contact", *common]) == 0
    assert train_cli.main(["--resume", str(o / "checkpoint.pt"), "--steps", "3"]) == 0
    ck = torch.load(o / "checkpoint.pt", weights_only=False)
    assert ck["step"] == 3 and ck["train_config"]["mbp"] is False and ck["train_config"]["lip_closure"] is False
    res = tmp_path / "res.json"
    assert evaluate_cli.main(["--corpus", str(c), "--model", f"imi={o / 'model.safetensors'}", "--checkpoint",
                              str(o / "best.pt"), "--max-clips", "2", "--threads", "1", "--out", str(res)]) == 0
    r = json.loads(res.read_text())
    assert [m["name"] for m in r["models"]] == ["imi", "best"]
    md = tmp_path / "docs" / "evaluation.md"
    assert report_cli.main([str(res), "--out", str(md)]) == 0
    text = md.read_text()
    assert "LVE" in text and "`imi`" in text


# ----------------------------------------------------------------------------------------------
# losses
# ----------------------------------------------------------------------------------------------
def test_losses_known_values():
    y = torch.zeros(1, 3, 6)
    p = torch.ones(1, 3, 6)
    w = torch.tensor([[0.0, 1.0, 0.5]])
    assert float(L.mbp_loss(p, y, w, lam=5.0)) == pytest.approx(5.0 * 1.5 / 3)
    assert float(L.velocity_loss(p, y)) == 0.0
    # two vertices (upper 0, lower 1) 2 units apart in the template; offsets close them at frame 1
    tmpl = torch.tensor([0.0, 1.0, 0.0, 0.0, -1.0, 0.0])
    off = torch.zeros(1, 3, 6)
    off[0, 1, 1], off[0, 1, 4] = -1.0, 1.0
    up, lo = torch.tensor([0]), torch.tensor([1])
    gap = L.lip_gap_sq(off, tmpl, up, lo)
    assert gap.tolist() == [[4.0, 0.0, 4.0]]
    assert float(L.lip_closure_loss(off, tmpl, up, lo, torch.tensor([[0.0, 1.0, 0.0]]))) == 0.0
    assert float(L.lip_closure_loss(off, tmpl, up, lo, torch.tensor([[1.0, 1.0, 0.0]]))) == 2.0
    c = torch.nn.functional.one_hot(torch.arange(4), 4).float().view(2, 2, 4)
    low = float(L.clip_loss(c, c, torch.tensor(np.log(100.0))))
    high = float(L.clip_loss(c, c.roll(1, dims=1), torch.tensor(np.log(100.0))))
    assert low < 1e-3 < high
    # identical codes: d_ii = 0; the two samples are orthogonal unit vectors, d_01 = sqrt(2)
    assert float(L.content_contrastive_loss(c, c)) == pytest.approx(0.0, abs=1e-6)  # margin 1 < sqrt(2)
    assert float(L.content_contrastive_loss(c, c, margin=2.0)) == pytest.approx((2 - np.sqrt(2)) ** 2 / 2, rel=1e-5)
    assert float(L.style_cycle_loss(torch.ones(2, 3), torch.ones(2, 3))) == pytest.approx(0.0, abs=1e-6)


def test_grad_reversal():
    from mimetic_tools.training.models import grad_reverse

    x = torch.ones(3, requires_grad=True)
    (2 * grad_reverse(x, 0.5)).sum().backward()
    assert x.grad.tolist() == [-1.0, -1.0, -1.0]


# ----------------------------------------------------------------------------------------------
# metrics on hand-made arrays
# ----------------------------------------------------------------------------------------------
def test_lve_known_answer():
    gt = np.zeros((2, 3, 3))
    pred = np.zeros((2, 3, 3))
    pred[0, 0] = [0.003, 0.004, 0.0]   # frame 0: lip vertex 0 off by 5 mm -> 25e-6 m^2
    pred[0, 1] = [0.001, 0.0, 0.0]     # smaller error on lip vertex 1
    pred[1, 2] = [1.0, 0.0, 0.0]       # frame 1: a non-lip vertex only
    lips = [0, 1]
    assert M.lve_frames(pred, gt, lips).tolist() == pytest.approx([25e-6, 0.0])
    assert M.lve(pred, gt, lips) == pytest.approx(12.5e-6)
    assert M.lve(pred.reshape(2, 9), gt.reshape(2, 9), lips) == pytest.approx(12.5e-6)  # [T, 3V] layout


def test_mve_and_crop():
    gt = np.zeros((3, 2, 3))
    pred = np.zeros((4, 2, 3))
    pred[:, 0, 2] = 0.002  # 2 mm on one of two vertices; the 4th predicted frame is cropped
    assert M.mve_mm(pred, gt) == pytest.approx(1.0)


def test_fdd_known_answer():
    # one upper-face vertex moving +-1 along x in the GT ( ||off||^2 = 0, 1, 0, 1: std 0.5 ); static prediction
    gt = np.zeros((4, 2, 3))
    gt[[1, 3], 0, 0] = 1.0
    pred = np.zeros((4, 2, 3))
    assert M.fdd(pred, gt, [0]) == pytest.approx(0.5)
    assert M.fdd(gt, gt, [0]) == 0.0
    assert M.fdd(gt, pred, [0]) == pytest.approx(-0.5)


def test_dtw_known_answers():
    assert M.dtw([0, 1, 2], [0, 1, 2]) == 0.0
    assert M.dtw([0, 1, 2], [0, 0, 1, 2]) == 0.0      # a repeated sample costs nothing
    assert M.dtw([0, 0, 0], [1, 1, 1]) == 3.0
    assert M.dtw([1, 2, 3], [1, 2, 4]) == 1.0
    assert M.dtw([0, 5], [5, 0]) == 10.0                 # both endpoints are pinned: |0-5| + |5-0|
    assert M.lip_sync_dtw([0, 0, 0, 0], [1, 1, 1, 1]) == 1.0
    # brute force on random sequences
    rng = np.random.default_rng(0)
    a, b = rng.random(6), rng.random(5)

    def brute(i, j):
        c = abs(a[i] - b[j])
        if i == 0 and j == 0:
            return c
        opts = []
        if i > 0:
            opts.append(brute(i - 1, j))
        if j > 0:
            opts.append(brute(i, j - 1))
        if i > 0 and j > 0:
            opts.append(brute(i - 1, j - 1))
        return c + min(opts)

    assert M.dtw(a, b) == pytest.approx(brute(5, 4))


def test_lip_opening_and_clip_metrics():
    tmpl = np.zeros((4, 3))
    tmpl[0, 1], tmpl[1, 1] = 0.002, -0.002      # pair (0, 1): 4 mm apart
    tmpl[2, 1], tmpl[3, 1] = 0.001, -0.001      # pair (2, 3): 2 mm apart
    gt = np.zeros((3, 4, 3))
    gt[1, 0, 1], gt[1, 1, 1], gt[1, 2, 1], gt[1, 3, 1] = -0.002, 0.002, -0.001, 0.001  # frame 1 closed
    pred = np.zeros((3, 4, 3))
    op = M.lip_opening(gt + tmpl, [0, 2], [1, 3])
    assert op.tolist() == pytest.approx([0.003, 0.0, 0.003])
    m = M.clip_metrics(pred, gt, tmpl, [0, 1], [2, 3], [0, 2], [1, 3], [1])
    assert m["lip_bilabial_pred_m"] == pytest.approx([0.003])
    assert m["lip_bilabial_gt_m"] == pytest.approx([0.0])
    s = M.summarize([m])
    assert s["lip_bilabial_pred_mm"] == pytest.approx(3.0)
    assert s["lip_bilabial_abs_err_mm"] == pytest.approx(3.0)
    assert s["lve_mm2"] == pytest.approx(4.0 / 3)   # frame 1: max over lips of (2 mm)^2 = 4 mm^2
    assert s["lip_dtw_mm"] == pytest.approx(1.0)    # [3, 3, 3] vs [3, 0, 3] mm: cost 3 over 3 frames
