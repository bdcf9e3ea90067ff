"""Worker-side work of the Charts page: read a pair set, evaluate encoders on it, keep the last result
(as JSON data: the cache is read as data, never as code)."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..widgets.path_row import shown_path

CACHE_NAME = "charts-last-evaluation.json"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PairSource:
    """What to evaluate on: an LFW-format pairs file with its image folder, or a folder of people."""

    kind: str  # "pairs" or "people"
    path: str
    images: str = ""
    folds: int = 10

    def describe(self) -> str:
        if self.kind == "pairs":
            return f"{Path(self.path).name} (images in {shown_path(self.images)})"
        return f"people in {shown_path(self.path)}"


def read_pair_set(source: PairSource):
    """The :class:`~facereid_engine.evaluation.pairsets.PairSet` of ``source`` (raises ``PairSetError``)."""
    from facereid_engine.evaluation.pairsets import identity_pairs, read_pairs_file

    if source.kind == "pairs":
        return read_pairs_file(source.path, source.images or None)
    return identity_pairs(source.path, n_folds=source.folds)


def evaluate_source(source: PairSource, encoders: list[str]):
    """Generator: evaluate ``encoders`` with all three distances on ``source``; returns the
    :class:`~facereid_engine.evaluation.runner.Evaluation`, also saved as the page's last result."""
    from facereid_engine.evaluation.runner import evaluate
    from facereid_engine.progress import Progress

    yield Progress(0, 1, "reading the pairs")
    pairs = read_pair_set(source)
    evaluation = yield from evaluate(pairs, encoders)
    for by_distance in evaluation.results.values():
        for result in by_distance.values():  # what the charts read, computed here and not in the UI thread
            _ = result.points, result.auc, result.eer, result.tar_at_far
    save_last(source, evaluation)
    return source, evaluation


def cache_path() -> Path:
    from facereid_engine.paths import cache_dir

    return cache_dir() / CACHE_NAME


def save_last(source: PairSource, evaluation) -> None:
    """Keep the last evaluation so that the page shows it again at the next start."""
    from facereid_engine.evaluation.saved import evaluation_to_data

    path = cache_path()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = {"source": asdict(source), "evaluation": evaluation_to_data(evaluation)}
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, allow_nan=True)
    os.replace(tmp, path)


def load_last():
    """(source, evaluation) of the last run, or None when there is none or it cannot be used (a
    damaged, foreign or older file is ignored with a note in the log, never run)."""
    from facereid_engine.evaluation.saved import evaluation_from_data

    path = cache_path()
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        fields = data["source"]
        source = PairSource(str(fields["kind"]), str(fields["path"]), str(fields["images"]), int(fields["folds"]))
        evaluation = evaluation_from_data(data["evaluation"])
        for by_distance in evaluation.results.values():
            for result in by_distance.values():
                _ = result.points, result.auc, result.eer, result.tar_at_far
        return source, evaluation
    except Exception as exc:  # noqa: BLE001 - whatever is in the file, the page starts without it
        _log.warning("%s: the last evaluation cannot be read (%s: %s); it is ignored", path, type(exc).__name__, exc)
        return None
