"""Evaluation on unseen speakers: `metrics` (LVE, MVE, FDD, lip distance at bilabial frames, lip-sync
DTW; numpy only) and `evaluate`, the prediction back ends (PyTorch, the Swift CLI)."""
