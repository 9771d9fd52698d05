"""Training FaceFormer / Imitator / Mimic models on the synthetic corpus (docs/training.md).

    from mimetic_tools.training import TrainConfig, Trainer
    tr = Trainer(TrainConfig(corpus="corpus/", out="runs/imitator", family="imitator"))
    tr.fit()
    tr.export("models/imitator.safetensors")
"""
from .data import CorpusData
from .models import ModelConfig, TrainModel, decoder_preset, wav2vec2_preset
from .trainer import TrainConfig, Trainer

__all__ = ["CorpusData", "ModelConfig", "TrainModel", "TrainConfig", "Trainer", "decoder_preset", "wav2vec2_preset"]
