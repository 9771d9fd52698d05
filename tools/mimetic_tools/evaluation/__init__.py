"""Evaluation on unseen speakers: metrics (LVE, MVE, FDD, lip distance at bilabial frames, lip-sync
DTW) and prediction back ends (PyTorch, the Swift CLI)."""
from . import metrics
from .evaluate import evaluate_model_file, evaluate_torch, eval_keys

__all__ = ["metrics", "evaluate_model_file", "evaluate_torch", "eval_keys"]
