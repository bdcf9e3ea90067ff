"""The trainable heads that sit on a frozen encoder's embeddings.

- :class:`ConcatClassifier`: the original study's method, kept as the baseline: the two raw
  embeddings concatenated (so ``f(a, b) != f(b, a)``) into an MLP.
- :class:`PairClassifier`: order-invariant features of the embeddings (``|a - b|`` and ``a * b``,
  after one global scale) into a small MLP, added to a learnt distance rule
  ``scale * (offset - ||a - b||)`` so that training starts from what the plain distance already does.
- :class:`MetricHead`: a linear projection ``z -> (I + D) z`` of the (scaled) embedding, started at
  the identity (weight decay pulls it back there), trained on identities with a contrastive
  logistic loss on ``scale * (offset - ||Pa - Pb||)``; its output is again an embedding.

Every head's ``forward(a, b)`` returns one same-person logit per pair (binary cross-entropy is the
two-class cross-entropy). Embeddings longer than :data:`MAX_DIRECT_DIM` (the study's flattened
ImageNet features) are first reduced by a fixed PCA fitted on the training embeddings.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

METHODS = ("pair", "metric", "concat")
#: Longer embeddings are reduced to REDUCED_DIM by PCA before the pair classifier and the metric head.
MAX_DIRECT_DIM = 512
REDUCED_DIM = 256


class Reducer(nn.Module):
    """Divide by the training embeddings' mean length (one number, so every vector keeps its own length:
    dlib's raw distances beat its normalised ones), then, for long embeddings, project on fixed principal
    components."""

    def __init__(self, dim: int, out_dim: int | None = None):
        super().__init__()
        self.in_dim = dim
        self.out_dim = out_dim or dim
        self.register_buffer("scale", torch.ones(()))
        if self.out_dim != dim:
            self.register_buffer("mean", torch.zeros(dim))
            self.register_buffer("components", torch.zeros(dim, self.out_dim))

    @property
    def reduces(self) -> bool:
        return self.out_dim != self.in_dim

    def fit(self, x: torch.Tensor) -> None:
        """The scale and (when reducing) the principal components of the training embeddings ``x`` (N, dim)."""
        x = x.double()
        scale = x.norm(dim=1).mean().clamp_min(1e-12)
        with torch.no_grad():
            self.scale.fill_(float(scale))
        if not self.reduces:
            return
        z = x / scale
        mean = z.mean(dim=0)
        _, _, vh = torch.linalg.svd(z - mean, full_matrices=False)
        comps = vh[: self.out_dim].T
        comps = comps * torch.sign(comps[comps.abs().argmax(dim=0), torch.arange(comps.shape[1])])  # fixed signs
        k = comps.shape[1]
        with torch.no_grad():
            self.mean.copy_(mean.float())
            self.components.zero_()
            self.components[:, :k] = comps.float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x / self.scale
        if self.reduces:
            z = (z - self.mean) @ self.components
        return z


class DistanceRule(nn.Module):
    """``scale * (offset - d)``: the logit of "same person" from a distance, both learnt."""

    def __init__(self, offset: float = 0.6, scale: float = 10.0):
        super().__init__()
        self.offset = nn.Parameter(torch.tensor(float(offset)))
        self.scale = nn.Parameter(torch.tensor(float(scale)))

    def forward(self, d: torch.Tensor) -> torch.Tensor:
        return self.scale * (self.offset - d)


def _pair_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(((a - b) ** 2).sum(dim=-1) + 1e-12)


class ConcatClassifier(nn.Module):
    """The study's classifier: MLP over ``[a, b]`` (raw embeddings, order-dependent)."""

    method = "concat"

    def __init__(self, dim: int, hidden: int = 256):
        super().__init__()
        self.config = {"method": self.method, "dim": dim, "hidden": hidden}
        self.mlp = nn.Sequential(nn.Linear(2 * dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([a, b], dim=-1)).squeeze(-1)


class PairClassifier(nn.Module):
    """Same-person logit from ``|a - b|`` and ``a * b`` of the scaled embeddings, plus a distance rule.

    The MLP's last layer starts at zero, so the untrained classifier is exactly the distance rule.
    """

    method = "pair"

    def __init__(self, dim: int, hidden: int = 64, dropout: float = 0.1):
        super().__init__()
        reduced = reduced_dim(dim)
        self.config = {"method": self.method, "dim": dim, "hidden": hidden, "dropout": dropout}
        self.reduce = Reducer(dim, reduced)
        self.rule = DistanceRule()
        self.mlp = nn.Sequential(nn.Linear(2 * reduced, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, 1))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        za, zb = self.reduce(a), self.reduce(b)
        features = torch.cat([(za - zb).abs(), za * zb], dim=-1)
        return self.rule(_pair_distance(za, zb)) + self.mlp(features).squeeze(-1)


def reduced_dim(dim: int) -> int:
    """Length of the reduced embeddings (a metric head's output) for base embeddings of length ``dim``."""
    return REDUCED_DIM if dim > MAX_DIRECT_DIM else dim


class MetricHead(nn.Module):
    """An embedding ``(I + D) x / scale``; ``forward`` is the pair logit used to train it."""

    method = "metric"

    def __init__(self, dim: int):
        super().__init__()
        reduced = reduced_dim(dim)
        self.config = {"method": self.method, "dim": dim}
        self.out_dim = reduced
        self.reduce = Reducer(dim, reduced)
        self.delta = nn.Parameter(torch.zeros(reduced, reduced))
        self.rule = DistanceRule()

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        z = self.reduce(x)
        return z + z @ self.delta.T

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.rule(_pair_distance(self.embed(a), self.embed(b)))


#: Each method's head parameters (as stored in a model's JSON) and, for each, whether it is required,
#: its type and the values it may take.
HEAD_PARAMETERS: dict[str, dict[str, tuple[bool, type, str]]] = {
    "concat": {"dim": (True, int, "positive"), "hidden": (False, int, "positive")},
    "pair": {"dim": (True, int, "positive"), "hidden": (False, int, "positive"),
             "dropout": (False, float, "fraction")},
    "metric": {"dim": (True, int, "positive")},
}


def check_head_config(config) -> None:
    """Raise ValueError (saying what is wrong) unless ``config`` is a head's config as :func:`build_head`
    takes it: a known method and exactly its parameters, of the right types and ranges."""
    if not isinstance(config, dict):
        raise ValueError(f"the head is {type(config).__name__}, not an object of parameters")
    kind = config.get("method")
    if kind not in HEAD_PARAMETERS:
        raise ValueError(f"unknown method {kind!r}: choose one of {', '.join(METHODS)}")
    allowed = HEAD_PARAMETERS[kind]
    extra = sorted(set(config) - set(allowed) - {"method"})
    if extra:
        raise ValueError(f"unknown parameter(s) {', '.join(map(repr, extra))} for a {kind!r} head "
                         f"(it takes {', '.join(allowed)})")
    for key, (required, kind_of, values) in allowed.items():
        if key not in config:
            if required:
                raise ValueError(f"the {kind!r} head's parameter {key!r} is missing")
            continue
        value = config[key]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind_of is int and not (number and float(value).is_integer()):
            raise ValueError(f"head parameter {key!r} must be a whole number, not {value!r}")
        if not number or not np.isfinite(value):
            raise ValueError(f"head parameter {key!r} must be a finite number, not {value!r}")
        if values == "positive" and not 0 < value <= 1_000_000:
            raise ValueError(f"head parameter {key!r} must lie in 1..1000000, not {value!r}")
        if values == "fraction" and not 0.0 <= value < 1.0:
            raise ValueError(f"head parameter {key!r} must lie in [0, 1), not {value!r}")


def build_head(config: dict) -> nn.Module:
    """A head from its ``config`` (as stored in a trained model's JSON), weights not loaded.

    Raises ValueError when the config is not one (see :func:`check_head_config`)."""
    check_head_config(config)
    config = {k: int(v) if HEAD_PARAMETERS[config["method"]].get(k, (0, None))[1] is int else v
              for k, v in config.items()}
    kind = config.get("method")
    params = {k: v for k, v in config.items() if k != "method"}
    if kind == "concat":
        return ConcatClassifier(**params)
    if kind == "pair":
        return PairClassifier(**params)
    if kind == "metric":
        return MetricHead(**params)
    raise ValueError(f"unknown method {kind!r}: choose one of {', '.join(METHODS)}")


def new_head(method: str, dim: int) -> nn.Module:
    """A fresh head of ``method`` for embeddings of length ``dim`` (random parts drawn from torch's RNG)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    return build_head({"method": method, "dim": int(dim)})


def pair_logits(head: nn.Module, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Same-person logits of a head for the rows of ``a`` and ``b`` (float64)."""
    with torch.inference_mode():
        ta = torch.as_tensor(np.atleast_2d(np.asarray(a, dtype=np.float32)))
        tb = torch.as_tensor(np.atleast_2d(np.asarray(b, dtype=np.float32)))
        return head(ta, tb).double().numpy()
