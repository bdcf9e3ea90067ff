"""Fine-tuning on a frozen encoder: the study's pair classifier done right, a metric head, and the
study's concatenation classifier as the baseline. A trained model becomes the encoder ``<base>+<name>``.

    data = load_training_data(pairs="lfw/pairsDevTrain.txt")
    result = progress.run(train(data, base="dlib", config=TrainConfig(method="pair", seed=0)))
    save_trained(result, "mine")          # -> encoder "dlib+mine"
"""
from __future__ import annotations

from .data import Split, TrainingData, TrainingDataError, load_training_data, split
from .heads import METHODS
from .store import ModelExistsError, delete_trained, list_trained, load_trained_encoder, save_trained
from .train import TrainConfig, TrainingConfigError, TrainResult, train

__all__ = ["METHODS", "Split", "TrainConfig", "TrainResult", "TrainingConfigError", "TrainingData",
           "TrainingDataError", "ModelExistsError", "delete_trained", "list_trained", "load_trained_encoder",
           "load_training_data", "save_trained", "split", "train"]
