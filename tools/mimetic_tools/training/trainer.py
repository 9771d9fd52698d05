"""The training loop: batches of random windows, the family's losses, Adam, checkpoints with exact
resume, a progress line every N steps, a JSONL log, periodic validation with PyTorch predictions.

Decoding schedule (`decoding`):
  * ``ar``: autoregressive at every step, as the originals train (exact, slowest);
  * ``teacher``: teacher forcing at every step (one parallel decoder pass; FaceFormer/Mimic feed the
    ground truth of the previous frame, Imitator a two-pass approximation, see models.py);
  * ``scheduled`` (default): teacher forcing for the first `ss_start` of training, then each step is
    autoregressive with a probability that rises linearly to 1 at `ss_end` and stays there, so the
    last part of training is exactly the originals' autoregressive training. Teacher forcing learns
    the audio-to-motion mapping faster per second of CPU; the switch removes its exposure bias (at
    inference the model only ever sees its own predictions).
"""
from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, Optional

import numpy as np
import torch

from . import losses as L
from .data import BatchSampler, CorpusData, offset_scale
from .models import ModelConfig, TrainModel, decoder_preset, realtime_preset, wav2vec2_preset

CHECKPOINT_FORMAT = "mimetic-train-1"


@dataclass
class TrainConfig:
    corpus: str
    out: str
    family: str = "imitator"
    encoder: str = "wav2vec2"           # wav2vec2 | realtime
    encoder_size: str = "small"         # tiny | small | base (wav2vec2 presets)
    encoder_config: Optional[dict] = None  # explicit encoder config (overrides encoder/encoder_size)
    decoder_size: str = "small"         # tiny | small | base
    steps: int = 3000
    batch_size: int = 8
    window: int = 90                    # frames per training window (3 s at 30 fps)
    lr: float = 3e-4
    warmup: int = 100
    grad_clip: float = 1.0
    dropout: float = 0.1
    seed: int = 0
    decoding: str = "scheduled"         # ar | teacher | scheduled
    ss_start: float = 0.3
    ss_end: float = 0.7
    # Imitator-style losses (defaults per family, see `family_defaults`)
    velocity_weight: Optional[float] = None
    mbp: Optional[bool] = None
    mbp_lambda: float = 5.0
    lip_closure: Optional[bool] = None
    lip_weight: float = 1.0
    # Mimic constraint weights (None: mimic_default_weights())
    mimic_weights: Optional[dict] = None
    # bookkeeping
    log_every: int = 10
    eval_every: int = 500
    eval_clips: int = 8
    ckpt_every: int = 500
    threads: int = 2
    device: str = "cpu"                 # cpu | cuda (a GPU when the machine has one)
    max_train_clips: Optional[int] = None
    quiet: bool = False

    def family_defaults(self) -> "TrainConfig":
        imi = self.family == "imitator"
        if self.velocity_weight is None:
            self.velocity_weight = 10.0 if imi else 0.0
        if self.mbp is None:
            self.mbp = imi
        if self.lip_closure is None:
            self.lip_closure = imi
        if self.family == "mimic":
            w = L.mimic_default_weights()
            w.update(self.mimic_weights or {})
            self.mimic_weights = w
        return self


def model_config_for(tc: TrainConfig, num_vertices: int, n_styles: int) -> ModelConfig:
    if tc.encoder_config is not None:
        enc = dict(tc.encoder_config)
    elif tc.encoder == "wav2vec2":
        enc = wav2vec2_preset(tc.encoder_size)
    elif tc.encoder == "realtime":
        enc = realtime_preset(tc.encoder_size)
    else:
        raise ValueError(f"unknown encoder {tc.encoder!r} (wav2vec2 | realtime)")
    if enc.get("type", "wav2vec2") == "wav2vec2":
        enc.setdefault("input_norm_eps", 1e-7 if tc.family == "imitator" else 1e-5)
    dec = decoder_preset(tc.decoder_size)
    return ModelConfig(family=tc.family, num_vertices=num_vertices, n_styles=n_styles, encoder=enc,
                       dropout=tc.dropout, **dec)


class Trainer:
    def __init__(self, tc: TrainConfig, resume: Optional[str] = None, log: Callable[[str], None] | None = None):
        self.tc = tc.family_defaults()
        torch.set_num_threads(max(1, int(tc.threads)))
        self.out = Path(tc.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.print = log or (lambda s: print(s, file=sys.stderr, flush=True))
        self.corpus = CorpusData(tc.corpus)
        self.rig = self.corpus.rig
        self.train_speakers = sorted(self.corpus.speakers("train"))
        keys = self.corpus.clip_keys(speaker_split="train", sentence_split="train") or \
            self.corpus.clip_keys(speaker_split="train")
        if tc.max_train_clips:
            keys = keys[: tc.max_train_clips]
        self.train_keys = keys
        self.step = 0
        self.best = None
        if resume:
            ck = torch.load(resume, map_location="cpu", weights_only=False)
            if ck.get("format") != CHECKPOINT_FORMAT:
                raise ValueError(f"{resume}: not a Mimetic training checkpoint")
            self.scale = float(ck["scale"])
            self.train_speakers = list(ck["speakers"])
            self.mc = ModelConfig.from_dict(ck["model_config"])
        else:
            self.scale = offset_scale(self.corpus, keys)
            self.mc = model_config_for(tc, self.rig.num_vertices, len(self.train_speakers))
        torch.manual_seed(tc.seed)
        self.device = torch.device(tc.device)
        self.model = TrainModel(self.mc, seed=tc.seed)
        self.model.train()
        if not resume and self.model.adapter.kind == "realtime":
            auds = [self.corpus.clip(k).audio for k in keys[:: max(1, len(keys) // 50)][:50]]
            self.model.adapter.init_statistics(self.model.audio_module, auds)
        self.model.to(self.device)
        self.opt = torch.optim.Adam([p for p in self.model.parameters() if p.requires_grad], lr=tc.lr)
        self.sampler = BatchSampler(self.corpus, keys, self.train_speakers, tc.batch_size, tc.window, self.scale,
                                    seed=tc.seed)
        self.template = torch.from_numpy(self.rig.template.reshape(-1) * self.scale).to(self.device)
        self.upper = torch.from_numpy(self.rig.lip_upper.astype(np.int64)).to(self.device)
        self.lower = torch.from_numpy(self.rig.lip_lower.astype(np.int64)).to(self.device)
        self.rng = random.Random(tc.seed)
        if resume:
            self.model.load_state_dict(ck["model"])
            self.opt.load_state_dict(ck["optimizer"])
            self.step = int(ck["step"])
            self.best = ck.get("best")
            self.sampler.set_state(ck["sampler"])
            self.rng.setstate(_tuple_state(ck["py_rng"]))
            torch.set_rng_state(ck["torch_rng"])
            if ck.get("cuda_rng") is not None and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(ck["cuda_rng"])
        self.log_path = self.out / "log.jsonl"

    # ------------------------------------------------------------------------------------------
    def progress(self) -> float:
        return self.step / max(1, self.tc.steps)

    def decoding_mode(self) -> str:
        d = self.tc.decoding
        if d in ("ar", "teacher"):
            return d
        if d != "scheduled":
            raise ValueError(f"unknown decoding {d!r}")
        p = self.progress()
        if p < self.tc.ss_start:
            prob = 0.0
        elif p >= self.tc.ss_end:
            prob = 1.0
        else:
            prob = (p - self.tc.ss_start) / max(1e-9, self.tc.ss_end - self.tc.ss_start)
        return "ar" if self.rng.random() < prob else "teacher"

    def lr_at(self, step: int) -> float:
        if self.tc.warmup > 0 and step < self.tc.warmup:
            return self.tc.lr * (step + 1) / self.tc.warmup
        return self.tc.lr

    # ------------------------------------------------------------------------------------------
    def compute_losses(self, batch, mode: str) -> Dict[str, torch.Tensor]:
        tc, m = self.tc, self.model
        y = batch.offsets
        B, W = y.shape[:2]
        mem = m.audio_features(batch.audio, W)
        parts: Dict[str, torch.Tensor] = {}
        if m.family in ("faceformer", "imitator"):
            s = m.style_vector(batch.speaker)
            pred, _ = m.decode(mem, style=s, mode=mode, target=y)
            parts["rec"] = L.mse(pred, y)
            total = parts["rec"]
        else:
            w = tc.mimic_weights
            c = m.content_code(y)
            s = m.style_code(y)
            pred, _ = m.decode(mem, style=s, init=batch.init, mode=mode, target=y)
            pred_c, _ = m.decode(c, style=s, init=batch.init, mode=mode, target=y)
            parts["rec"] = L.mse(pred, y)
            parts["rec_content"] = L.mse(pred_c, y)
            total = w["rec_audio"] * parts["rec"] + w["rec_content"] * parts["rec_content"]
            n = self.mc.n_styles
            if w.get("style_cls", 0) > 0:
                parts["style_cls"] = torch.nn.functional.cross_entropy(m.net.style_class_head(s), batch.speaker.clamp(max=n - 1))
                total = total + w["style_cls"] * parts["style_cls"]
            if w.get("grl", 0) > 0:
                logits = m.net.content_grl_head(_grl(c.mean(dim=1)))
                parts["grl"] = torch.nn.functional.cross_entropy(logits, batch.speaker.clamp(max=n - 1))
                total = total + w["grl"] * L.grl_schedule(self.progress()) * parts["grl"]
            if w.get("clip", 0) > 0:
                parts["clip"] = L.clip_loss(c, mem, m.net.logit_scale)
                total = total + w["clip"] * parts["clip"]
            if w.get("style_cycle", 0) > 0 or w.get("content_cycle", 0) > 0:
                perm = torch.randperm(B).to(s.device)
                s_t = s[perm]
                # the swapped-style decode has no ground truth: always autoregressive (as the original)
                y_t, _ = m.decode(c, style=s_t, init=batch.init, mode="ar")
                if w.get("style_cycle", 0) > 0:
                    parts["style_cycle"] = L.style_cycle_loss(s_t, m.style_code(y_t))
                    total = total + w["style_cycle"] * parts["style_cycle"]
                if w.get("content_cycle", 0) > 0:
                    parts["content_cycle"] = L.content_contrastive_loss(m.content_code(y_t), c.detach())
                    total = total + w["content_cycle"] * parts["content_cycle"]
        if tc.velocity_weight:
            parts["vel"] = L.velocity_loss(pred, y)
            total = total + tc.velocity_weight * parts["vel"]
        if tc.mbp:
            parts["mbp"] = L.mbp_loss(pred, y, batch.frame_weights, tc.mbp_lambda)
            total = total + parts["mbp"]
        if tc.lip_closure:
            parts["lip"] = L.lip_closure_loss(pred, self.template, self.upper, self.lower, batch.bilabial)
            total = total + tc.lip_weight * parts["lip"]
        parts["loss"] = total
        return parts

    def fixed_batch(self, seed: int = 12345):
        """A reproducible batch (its own sampler state), e.g. to measure the loss before / after."""
        sm = BatchSampler(self.corpus, self.train_keys, self.train_speakers, self.tc.batch_size, self.tc.window,
                          self.scale, seed=seed)
        return sm.next().to(self.device)

    def eval_loss(self, batch, mode: str = "ar") -> Dict[str, float]:
        """Losses on a batch without dropout or gradient (the Mimic style swap uses a fixed seed)."""
        was = self.model.training
        self.model.eval()
        st = torch.get_rng_state()
        try:
            torch.manual_seed(0)
            with torch.no_grad():
                parts = self.compute_losses(batch, mode)
        finally:
            torch.set_rng_state(st)
            self.model.train(was)
        return {k: float(v) for k, v in parts.items()}

    def train_step(self) -> Dict[str, float]:
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(self.step)
        mode = self.decoding_mode()
        batch = self.sampler.next().to(self.device)
        self.model.train()
        parts = self.compute_losses(batch, mode)
        self.opt.zero_grad(set_to_none=True)
        parts["loss"].backward()
        if self.tc.grad_clip and self.tc.grad_clip > 0:
            gn = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.tc.grad_clip)
        else:
            gn = torch.tensor(0.0)
        self.opt.step()
        self.step += 1
        out = {k: float(v.detach()) for k, v in parts.items()}
        out["grad_norm"] = float(gn)
        out["mode"] = mode
        return out

    # ------------------------------------------------------------------------------------------
    def checkpoint(self, path: Optional[str] = None) -> Path:
        p = Path(path) if path else self.out / "checkpoint.pt"
        ck = {
            "format": CHECKPOINT_FORMAT,
            "train_config": asdict(self.tc),
            "model_config": self.mc.to_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "step": self.step,
            "scale": self.scale,
            "speakers": self.train_speakers,
            "sampler": self.sampler.state(),
            "py_rng": self.rng.getstate(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else None,
            "best": self.best,
            "corpus": str(Path(self.tc.corpus).resolve()),
        }
        tmp = p.with_suffix(p.suffix + ".tmp")
        torch.save(ck, tmp)
        os.replace(tmp, p)
        return p

    def _log(self, rec: dict) -> None:
        with open(self.log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def validate(self) -> Optional[dict]:
        from ..evaluation.evaluate import eval_keys, evaluate_torch

        keys = eval_keys(self.corpus, "val", max_clips=self.tc.eval_clips)  # round-robin over the speakers
        if not keys:
            return None
        res = evaluate_torch(self.model, self.corpus, keys, scale=self.scale)
        return res["summary"]

    def fit(self, steps: Optional[int] = None) -> dict:
        tc = self.tc
        total = int(steps if steps is not None else tc.steps)
        t0 = time.time()
        s0 = self.step
        acc: Dict[str, list] = {}
        last = {}
        while self.step < total:
            rec = self.train_step()
            last = rec
            for k, v in rec.items():
                if isinstance(v, float):
                    acc.setdefault(k, []).append(v)
            done = self.step
            if done % tc.log_every == 0 or done == total:
                el = time.time() - t0
                sps = (done - s0) / max(el, 1e-9)
                mean = {k: float(np.mean(v)) for k, v in acc.items()}
                acc = {}
                eta = (total - done) / max(sps, 1e-9)
                rec_out = {"step": done, "time": round(el, 3), "steps_per_s": round(sps, 4), "lr": self.lr_at(done - 1),
                           "mode": rec["mode"], **{k: round(v, 6) for k, v in mean.items()}}
                self._log(rec_out)
                if not tc.quiet:
                    comps = " ".join(f"{k} {mean[k]:.4g}" for k in mean if k not in ("loss", "grad_norm"))
                    self.print(f"[{tc.family}] step {done}/{total} | loss {mean['loss']:.4g} ({comps}) | "
                               f"{sps:.2f} steps/s | ETA {_fmt_s(eta)}")
            if tc.eval_every and done % tc.eval_every == 0 and done < total:
                self._eval_and_log(done)
            if tc.ckpt_every and done % tc.ckpt_every == 0:
                self.checkpoint()
        if tc.eval_every:
            self._eval_and_log(self.step)
        self.checkpoint()
        return last

    # ------------------------------------------------------------------------------------------
    def mimic_style_codes(self, max_clips_per_speaker: int = 8) -> np.ndarray:
        """Mean style code of each training speaker over (up to) its first clips (the last
        style_window frames of each, as the runtime takes a reference)."""
        codes = []
        was = self.model.training
        self.model.eval()
        with torch.no_grad():
            for spk in self.train_speakers:
                ks = sorted(self.corpus.clip_keys(speakers=[spk]))[:max_clips_per_speaker]
                cs = []
                for k in ks:
                    off = torch.from_numpy(self.corpus.clip(k).offsets(self.rig) * self.scale).unsqueeze(0)
                    cs.append(self.model.style_code(off[:, -self.mc.style_window:].to(self.device))[0])
                codes.append(torch.stack(cs).mean(0).cpu().numpy())
        self.model.train(was)
        return np.stack(codes).astype(np.float32)

    def export(self, path, dtype: str = "f32", style_codes: bool = True) -> dict:
        """Write the model file (through the converter); Mimic: with the training speakers' style codes."""
        from .export import export_model

        codes = self.mimic_style_codes() if (self.mc.family == "mimic" and style_codes) else None
        names = self.train_speakers if (self.mc.family != "mimic" or codes is not None) else []
        prov = {"source": "training", "step": self.step, "corpus": Path(self.tc.corpus).name,
                "decoding": self.tc.decoding, "lip_contact": bool(self.tc.mbp or self.tc.lip_closure),
                "offset_scale": self.scale}
        return export_model(self.model, self.scale, self.rig, path, style_names=names, style_codes=codes,
                            dtype=dtype, provenance=prov)

    def _eval_and_log(self, step: int) -> None:
        v = self.validate()
        if v is None:
            return
        self._log({"step": step, "val": v})
        if self.best is None or v["mve_mm"] < self.best.get("mve_mm", float("inf")):
            self.best = {"step": step, **v}
            self.checkpoint(str(self.out / "best.pt"))
        if not self.tc.quiet:
            self.print(f"[{self.tc.family}] val @ {step}: LVE {v['lve_mm2']:.4g} mm^2 | MVE {v['mve_mm']:.4g} mm | "
                       f"lip@bilabial {v['lip_bilabial_pred_mm']:.3g} mm (gt {v['lip_bilabial_gt_mm']:.3g}) | "
                       f"DTW {v['lip_dtw_mm']:.4g}")


def _grl(x: torch.Tensor) -> torch.Tensor:
    from .models import grad_reverse

    return grad_reverse(x, 1.0)


def _tuple_state(st):
    """random.getstate() survives torch.save as nested tuples/lists; setstate wants tuples."""
    if isinstance(st, list):
        return tuple(_tuple_state(x) for x in st)
    if isinstance(st, tuple):
        return tuple(_tuple_state(x) for x in st)
    return st


def _fmt_s(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    s = int(s)
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"
