"""The adaptation sweep (mimetic_tools.dev.adaptation_sweep) runs end to end on a small corpus of
speakers the fixture model never saw, and reports each setting against the mean style."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from mimetic_tools.corpus import generate as G

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "python"))     # the binding of this checkout (MIMETIC_LIBRARY: its library)


def test_sweep_on_a_small_unseen_corpus(tmp_path, capsys):
    from mimetic_tools.dev.adaptation_sweep import main
    corpus = tmp_path / "c"
    G.make_corpus(str(corpus), 2, 6, seed=7, workers=1, progress=False, rig_path=str(ROOT / "models" / "rig.safetensors"))
    out = tmp_path / "sweep.json"
    assert main(["--corpus", str(corpus), "--model", str(ROOT / "models" / "default.safetensors"), "--seconds", "3",
                 "--workers", "1", "--config", "style_steps=3,basis_steps=2", "--config", "start=best,style_steps=3,basis_steps=0,held_out_folds=2",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 speakers; generalized slot 0" in text and "[start=best,style_steps=3,basis_steps=0,held_out_folds=2]" in text
    rows = json.load(open(out))["rows"]
    assert len(rows) == 2 and all(0 < r["3/0"][0] < 10 and 0 < r["3/1"][0] < 10 for r in rows)
