"""The training loop: a generator that embeds the images (cached), then trains a head epoch by epoch.

Each epoch (0 = before any step) yields ``Progress(info={"stage": "train", "epoch", "loss",
"val_accuracy", "val_loss", "base_val_accuracy", "history"})`` (``base_val_accuracy``: the plain base
distance's best accuracy on the validation pairs, for reference; ``history``: every epoch's record so
far, so a listener that drops events still draws them all);
the generator returns a :class:`TrainResult` holding the kept head (see ``TrainConfig.alpha``). Nothing
is written to disk here (see :mod:`.store`), so a cancelled run leaves no model behind.

Deterministic for a seed: all randomness comes from a private torch RNG state that is swapped in
only while an epoch computes (so work that runs between two yields -- the app's Compare, say --
neither disturbs it nor is disturbed by it), on one thread with deterministic algorithms.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..distances import DISTANCES, paired
from ..encoders.names import is_trained
from ..encoders.registry import DEFAULT_ENCODER
from ..errors import FaceReIDError
from ..evaluation.metrics import accuracy_at, best_threshold
from ..progress import Progress, Work
from .data import Split, TrainingData, split as split_data
from .heads import METHODS, MetricHead, new_head

#: Defaults per method. ``concat`` keeps the study's recipe: no weight decay, no early stopping.
METHOD_DEFAULTS: dict[str, dict[str, Any]] = {
    "pair": {"epochs": 60, "learning_rate": 3e-3, "weight_decay": 1e-1, "patience": 10},
    "metric": {"epochs": 60, "learning_rate": 3e-3, "weight_decay": 1e-2, "patience": 10},
    "concat": {"epochs": 60, "learning_rate": 1e-3, "weight_decay": 0.0, "patience": None},
}


class TrainingConfigError(FaceReIDError):
    """A training option that cannot be honoured (for example unfreezing without a GPU)."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``None`` fields take the method's default (:data:`METHOD_DEFAULTS`).

    Attributes:
        method: ``pair`` (order-invariant pair classifier), ``metric`` (metric head) or ``concat``
            (the study's concatenation classifier, the baseline).
        epochs: most epochs; training stops earlier when the validation accuracy has not improved
            for ``patience`` epochs (``patience=None``: never stop early, keep the last epoch).
        alpha: an epoch replaces the kept one (at first the untrained head) only when it is right on
            significantly more validation pairs (one-sided exact McNemar test at this level): the best
            of many epochs on a few hundred pairs is partly luck.
        weight_decay: AdamW weight decay of the head's weights.
        val_fraction: share of the people set aside for validation.
        seed: seeds the split, the initial weights and the batch order.
        unfreeze: also train the last stage of an ImageNet backbone (needs a GPU; not offered on CPU).
    """

    method: str = "pair"
    epochs: int | None = None
    batch_size: int = 128
    learning_rate: float | None = None
    weight_decay: float | None = None
    patience: int | None | str = "default"
    val_fraction: float = 0.2
    alpha: float = 0.05
    seed: int = 0
    unfreeze: bool = False

    def resolved(self) -> "TrainConfig":
        """This config with the method's defaults filled in; raises TrainingConfigError when invalid."""
        if self.method not in METHODS:
            raise TrainingConfigError(f"unknown method {self.method!r}: choose one of {', '.join(METHODS)}")
        d = METHOD_DEFAULTS[self.method]
        out = replace(self,
                      epochs=d["epochs"] if self.epochs is None else int(self.epochs),
                      learning_rate=d["learning_rate"] if self.learning_rate is None else float(self.learning_rate),
                      weight_decay=d["weight_decay"] if self.weight_decay is None else float(self.weight_decay),
                      patience=d["patience"] if self.patience == "default" else self.patience)
        if out.epochs < 1 or out.batch_size < 1 or out.learning_rate <= 0 or out.weight_decay < 0:
            raise TrainingConfigError(f"epochs, batch size and learning rate must be positive and weight decay "
                                      f"not negative (got {out.epochs}, {out.batch_size}, {out.learning_rate}, "
                                      f"{out.weight_decay})")
        if not 0.0 < out.alpha <= 1.0 or not 0.0 < out.val_fraction < 1.0:
            raise TrainingConfigError(f"alpha must lie in (0, 1] and val_fraction in (0, 1) "
                                      f"(got {out.alpha}, {out.val_fraction})")
        if out.patience is not None and int(out.patience) < 1:
            raise TrainingConfigError(f"patience must be at least 1 epoch (or None), not {out.patience}")
        if out.unfreeze:
            raise TrainingConfigError(unfreeze_unavailable_reason())
        return out


def unfreeze_unavailable_reason() -> str:
    """Why unfreezing the backbone is not offered here, in words."""
    if not torch.cuda.is_available():
        return ("unfreezing the backbone needs a GPU and none was found: training uses the frozen encoder's "
                "cached embeddings (leave the option off)")
    return ("unfreezing the backbone is not offered in this version: training uses the frozen encoder's cached "
            "embeddings (leave the option off)")


@dataclass
class TrainResult:
    """A trained head and how it was made; :func:`.store.save_trained` writes it."""

    base: str
    method: str
    head: nn.Module
    config: TrainConfig
    data: dict
    split: dict
    history: list[dict]
    best_epoch: int
    val_accuracy: float
    base_val_accuracy: float
    thresholds: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False

    def metrics(self) -> dict:
        """JSON-ready numbers: validation accuracy of the kept epoch, the base's, the history."""
        return {"val_accuracy": self.val_accuracy, "base_val_accuracy": self.base_val_accuracy,
                "best_epoch": self.best_epoch, "epochs_run": len(self.history) - 1,
                "stopped_early": self.stopped_early, "history": self.history}

    def summary(self) -> dict:
        return {"base": self.base, "method": self.method, "data": self.data, "split": self.split,
                "config": asdict(self.config), "thresholds": self.thresholds, **self.metrics()}


class _PrivateRNG:
    """A torch RNG state of our own, made current (with one thread, deterministic ops) only inside ``active``."""

    def __init__(self, seed: int):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.state = torch.get_rng_state()

    @contextlib.contextmanager
    def active(self):
        threads = torch.get_num_threads()
        deterministic = torch.are_deterministic_algorithms_enabled()
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self.state)
            torch.set_num_threads(1)
            torch.use_deterministic_algorithms(True)
            try:
                yield
            finally:
                self.state = torch.get_rng_state()
                torch.set_num_threads(threads)
                torch.use_deterministic_algorithms(deterministic)


def needed_images(sp: Split, method: str) -> np.ndarray:
    """Indices of the images a method needs embedded (pairs' images; the metric head also its identities)."""
    parts = [sp.train_left, sp.train_right, sp.val_left, sp.val_right]
    if method == "metric":
        parts.append(sp.train_images)
    return np.unique(np.concatenate(parts))


def _identity_pairs(sp: Split, rng: np.random.Generator, n_negative: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every same-person pair among the training images and ``n_negative`` fresh different-person pairs."""
    labels = sp.data.labels[sp.train_images]
    order = np.argsort(labels, kind="stable")
    images, labels = sp.train_images[order], labels[order]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], len(labels)]
    left, right = [], []
    for s, e in zip(starts, ends):
        if e - s >= 2:
            r, c = np.triu_indices(e - s, 1)
            left.append(images[s + r])
            right.append(images[s + c])
    pos_l = np.concatenate(left) if left else np.zeros(0, dtype=np.int64)
    pos_r = np.concatenate(right) if right else np.zeros(0, dtype=np.int64)
    a = rng.integers(len(images), size=2 * n_negative)
    b = rng.integers(len(images), size=2 * n_negative)
    keep = np.flatnonzero(labels[a] != labels[b])[:n_negative]
    neg_l, neg_r = images[a[keep]], images[b[keep]]
    return (np.concatenate([pos_l, neg_l]), np.concatenate([pos_r, neg_r]),
            np.r_[np.ones(len(pos_l), dtype=bool), np.zeros(len(neg_l), dtype=bool)])


def _epoch_pairs(sp: Split, method: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    left, right, same = sp.train_left, sp.train_right, sp.train_same
    if method != "metric":
        return left, right, same
    il, ir, isame = _identity_pairs(sp, rng, n_negative=max(int((~same).sum()), int(same.sum())))
    return np.r_[left, il], np.r_[right, ir], np.r_[same, isame]


def _parameter_groups(head: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on weight matrices (and the metric head's deviation from the identity) only."""
    decay, free = [], []
    for name, p in head.named_parameters():
        (decay if p.ndim >= 2 else free).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": free, "weight_decay": 0.0}]


def _evaluate(head: nn.Module, emb: torch.Tensor, left: np.ndarray, right: np.ndarray, same: np.ndarray,
              calibration: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
              ) -> tuple[float, float, np.ndarray]:
    """(loss, accuracy, correct) on pairs, ``correct`` saying which pairs were decided right.

    A classifier decides with its own logit; the metric head at the best threshold on the
    ``calibration`` pairs (the training pairs), never on the pairs scored.
    """
    head.eval()
    with torch.no_grad():
        a, b = emb[torch.from_numpy(left)], emb[torch.from_numpy(right)]
        logits = head(a, b)
        target = torch.from_numpy(same.astype(np.float32))
        loss = float(F.binary_cross_entropy_with_logits(logits, target))
        if isinstance(head, MetricHead) and calibration is not None:
            cl, cr, cs = calibration
            dc = (head.embed(emb[torch.from_numpy(cl)]) - head.embed(emb[torch.from_numpy(cr)])).norm(dim=1)
            threshold, _ = best_threshold(dc.double().numpy(), cs)
            d = (head.embed(a) - head.embed(b)).norm(dim=1).double().numpy()
            correct = (d <= threshold) == same
        else:
            correct = (logits > 0).numpy() == same
    return loss, float(correct.mean()), correct


def significantly_better(new_right: np.ndarray, kept_right: np.ndarray, alpha: float) -> bool:
    """Exact one-sided McNemar test: is the new model right on significantly more of the pairs where
    the two disagree (p < ``alpha``)? Validation accuracy alone picks lucky epochs on a few hundred pairs."""
    wins = int(np.count_nonzero(new_right & ~kept_right))
    losses = int(np.count_nonzero(~new_right & kept_right))
    n = wins + losses
    if wins <= losses:
        return False
    p = sum(math.comb(n, k) for k in range(wins, n + 1)) / 2.0 ** n
    return p < alpha


def _initial_rule(head: nn.Module, emb: torch.Tensor, left: np.ndarray, right: np.ndarray,
                  same: np.ndarray) -> None:
    """Set the distance rule to the best threshold of the (reduced) distance on the given pairs."""
    if not hasattr(head, "rule"):
        return
    with torch.no_grad():
        embed = head.embed if isinstance(head, MetricHead) else head.reduce
        a = embed(emb[torch.from_numpy(left)])
        b = embed(emb[torch.from_numpy(right)])
        d = (a - b).norm(dim=1).double().numpy()
        t, _ = best_threshold(d, same)
        spread = float(np.std(d)) or 1.0
        head.rule.offset.fill_(t)
        head.rule.scale.fill_(4.0 / spread)


def calibrate_thresholds(head: MetricHead, emb: torch.Tensor, left: np.ndarray, right: np.ndarray,
                         same: np.ndarray) -> dict[str, float]:
    """Best threshold of each distance on the metric head's embeddings of the given pairs."""
    with torch.no_grad():
        z = head.embed(emb).double().numpy()
    return {name: best_threshold(paired(z[left], z[right], name), same)[0] for name in DISTANCES}


def train(data: TrainingData | Split, base: str = DEFAULT_ENCODER, config: TrainConfig | None = None, *,
          embeddings: np.ndarray | None = None, flip: bool = False) -> Work[TrainResult]:
    """Train a head of ``config.method`` on ``base``'s embeddings of ``data``.

    Args:
        data: the training data (split here with ``config.val_fraction`` and ``config.seed``) or a split.
        base: name of the frozen encoder whose embeddings are learnt from.
        embeddings: (len(data.images), dim) precomputed embeddings; by default they are computed
            (and cached) with the face pipeline.
        flip: embed the mirrored faces too and average (see :mod:`.embed`).

    Raises (before any work): TrainingDataError for malformed or too-small data, TrainingConfigError.
    """
    config = (config or TrainConfig()).resolved()
    if is_trained(base):
        raise TrainingConfigError(f"train on a built-in encoder, not on the trained model {base!r}")
    sp = data if isinstance(data, Split) else split_data(data, config.val_fraction, config.seed)
    if embeddings is None:
        from .embed import embed_images
        wanted = needed_images(sp, config.method)
        choice = "largest" if sp.data.kind == "identities" else "centre"
        subset = yield from embed_images([sp.data.images[i] for i in wanted], base, flip=flip, face_choice=choice)
        embeddings = np.zeros((len(sp.data.images), subset.shape[1]), dtype=np.float32)
        embeddings[wanted] = subset
    elif len(embeddings) != len(sp.data.images):
        raise ValueError(f"{len(embeddings)} embeddings for {len(sp.data.images)} images")
    emb = torch.as_tensor(np.asarray(embeddings, dtype=np.float32))
    return (yield from _fit(sp, base, config, emb))


def _fit(sp: Split, base: str, config: TrainConfig, emb: torch.Tensor) -> Work[TrainResult]:
    rng_torch = _PrivateRNG(config.seed)
    train_pairs = (sp.train_left, sp.train_right, sp.train_same)
    rng = np.random.default_rng(config.seed)
    with rng_torch.active():
        head = new_head(config.method, emb.shape[1])
        if hasattr(head, "reduce"):
            head.reduce.fit(emb[torch.from_numpy(sp.train_images)])
        _initial_rule(head, emb, sp.train_left, sp.train_right, sp.train_same)
        optimizer = torch.optim.AdamW(_parameter_groups(head, config.weight_decay), lr=config.learning_rate)
        train_loss, _, _ = _evaluate(head, emb, sp.train_left, sp.train_right, sp.train_same)
        val_loss, val_acc, val_right = _evaluate(head, emb, sp.val_left, sp.val_right, sp.val_same, train_pairs)
    # the plain base distance, its threshold chosen on the training pairs, scored on the validation pairs
    vectors = emb.numpy()
    base_threshold, _ = best_threshold(paired(vectors[sp.train_left], vectors[sp.train_right], "euclidean"),
                                       sp.train_same)
    base_val_accuracy = accuracy_at(paired(vectors[sp.val_left], vectors[sp.val_right], "euclidean"),
                                    sp.val_same, base_threshold)
    history = [{"epoch": 0, "loss": train_loss, "val_loss": val_loss, "val_accuracy": val_acc}]
    kept_right = val_right
    best_epoch, best_state = 0, {k: v.clone() for k, v in head.state_dict().items()}
    yield Progress(0, config.epochs, f"epoch 0: validation accuracy {val_acc:.4f}",
                   {"stage": "train", **history[0], "base_val_accuracy": base_val_accuracy,
                    "history": list(history)})
    stale = 0
    stopped_early = False
    for epoch in range(1, config.epochs + 1):
        with rng_torch.active():
            left, right, same = _epoch_pairs(sp, config.method, rng)
            head.train()
            order = torch.randperm(len(same))
            total, seen = 0.0, 0
            for start in range(0, len(order), config.batch_size):
                batch = order[start:start + config.batch_size].numpy()
                a = emb[torch.from_numpy(left[batch])]
                b = emb[torch.from_numpy(right[batch])]
                target = torch.from_numpy(same[batch].astype(np.float32))
                loss = F.binary_cross_entropy_with_logits(head(a, b), target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(batch)
                seen += len(batch)
            val_loss, val_acc, val_right = _evaluate(head, emb, sp.val_left, sp.val_right, sp.val_same,
                                                     train_pairs)
        record = {"epoch": epoch, "loss": total / max(seen, 1), "val_loss": val_loss, "val_accuracy": val_acc}
        history.append(record)
        if config.patience is None or significantly_better(val_right, kept_right, config.alpha):
            kept_right, best_epoch, stale = val_right, epoch, 0
            best_state = {k: v.clone() for k, v in head.state_dict().items()}
        else:
            stale += 1
        yield Progress(epoch, config.epochs, f"epoch {epoch}: loss {record['loss']:.4f}, "
                                             f"validation accuracy {val_acc:.4f}", {"stage": "train", **record,
                                                                     "base_val_accuracy": base_val_accuracy,
                                                                     "history": list(history)})
        if config.patience is not None and stale >= config.patience and epoch < config.epochs:
            stopped_early = True
            yield Progress(config.epochs, config.epochs, f"stopped early after epoch {epoch}: no better "
                                                         f"validation accuracy for {stale} epochs",
                           {"stage": "train", **record, "base_val_accuracy": base_val_accuracy,
                            "history": list(history), "stopped_early": True})
            break
    head.load_state_dict(best_state)
    head.eval()
    # Calibrate on pairs the kept weights never learnt from: the validation pairs, and the training
    # pairs too when the kept head is the untrained one (epoch 0).
    if best_epoch == 0:
        cal = (np.r_[sp.train_left, sp.val_left], np.r_[sp.train_right, sp.val_right],
               np.r_[sp.train_same, sp.val_same])
        _initial_rule(head, emb, *cal)
    else:
        cal = (sp.val_left, sp.val_right, sp.val_same)
    thresholds = calibrate_thresholds(head, emb, *cal) if isinstance(head, MetricHead) else {}
    kept = history[best_epoch]
    return TrainResult(base=base, method=config.method, head=head, config=config, data=sp.data.describe(),
                       split=sp.describe(), history=history, best_epoch=best_epoch,
                       val_accuracy=float(kept["val_accuracy"]), base_val_accuracy=float(base_val_accuracy),
                       thresholds=thresholds, stopped_early=stopped_early)

