"""Training data: labelled images and pairs, and the seeded, person-disjoint validation split.

Sources: an LFW-format pairs file (``pairsDevTrain.txt``), an LFW people file (``peopleDevTrain.txt``)
or a folder with one sub-folder of photos per person. Every check runs here, before any image is
embedded, so malformed or too-small data fails with a :class:`TrainingDataError` that names the
file (and line) and the cause. LFW's test files are refused: a model must never learn the pairs it
will be scored on.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataFileError
from ..evaluation.pairsets import PairSetError, read_pairs_file

from ..folders import find_images

#: LFW files that hold test pairs or test people (View 1 test, View 2): never trained on.
LFW_TEST_FILES = frozenset({"pairsDevTest.txt", "pairs.txt", "peopleDevTest.txt", "people.txt"})
#: Fewest pairs of each kind (same / different person) in the training and the validation part.
MIN_TRAIN_PAIRS = 8
MIN_VAL_PAIRS = 2
#: Fewest people with two or more images (each side of the split takes at least two of them).
MIN_PEOPLE = 4
#: Cap on the matched pairs drawn from one person of a folder of people (keeps big albums from dominating).
MAX_PAIRS_PER_PERSON = 30


class TrainingDataError(DataFileError):
    """Training data that cannot be used: names the file or folder (and line) and the cause."""


@dataclass(frozen=True, eq=False)
class TrainingData:
    """Labelled images, and the labelled pairs among them when the source lists pairs.

    Attributes:
        source: the pairs file, people file or folder of people.
        kind: ``lfw-pairs``, ``lfw-people`` or ``identities``.
        images: distinct image paths.
        labels: (N,) index into ``people`` of each image.
        people: person names.
        left, right, same: the source's own pairs (indices into ``images``); empty for people sources.
    """

    source: Path
    kind: str
    images: tuple[Path, ...]
    labels: np.ndarray
    people: tuple[str, ...]
    left: np.ndarray
    right: np.ndarray
    same: np.ndarray

    @property
    def has_pairs(self) -> bool:
        return len(self.same) > 0

    def describe(self) -> dict:
        """A JSON-ready summary of where the data comes from and its size."""
        out = {"source": str(self.source), "kind": self.kind, "n_images": len(self.images),
               "n_people": len(self.people)}
        if self.has_pairs:
            out.update(n_pairs=int(len(self.same)), n_matched=int(self.same.sum()))
        return out


@dataclass(frozen=True, eq=False)
class Split:
    """Training and validation pairs (indices into ``data.images``); no person is on both sides.

    ``train_images`` are the images the metric head learns identities from (validation people excluded).
    """

    data: TrainingData
    seed: int
    val_people: tuple[str, ...]
    train_left: np.ndarray
    train_right: np.ndarray
    train_same: np.ndarray
    val_left: np.ndarray
    val_right: np.ndarray
    val_same: np.ndarray
    train_images: np.ndarray

    def describe(self) -> dict:
        return {"seed": self.seed, "val_people": len(self.val_people),
                "train_pairs": int(len(self.train_same)), "train_matched": int(self.train_same.sum()),
                "val_pairs": int(len(self.val_same)), "val_matched": int(self.val_same.sum()),
                "train_images": int(len(self.train_images))}


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------
def _refuse_test_file(path: Path) -> None:
    if path.name in LFW_TEST_FILES:
        raise TrainingDataError(path, "this is one of LFW's test files: a model must not learn the pairs it "
                                      "is scored on; train on pairsDevTrain.txt or peopleDevTrain.txt")


def _person_of(image: Path) -> str:
    return image.parent.name


def from_pairs_file(path: str | os.PathLike, images: str | os.PathLike | None = None) -> TrainingData:
    """The pairs of an LFW-format pairs file; each image's person is its folder's name."""
    source = Path(path).expanduser().absolute()
    _refuse_test_file(source)
    try:
        pairs = read_pairs_file(source, images)
    except PairSetError as exc:
        raise TrainingDataError(exc.path, exc.cause, exc.line) from None
    names = sorted({_person_of(p) for p in pairs.images})
    index = {n: i for i, n in enumerate(names)}
    labels = np.array([index[_person_of(p)] for p in pairs.images], dtype=np.int64)
    return TrainingData(source, "lfw-pairs", tuple(pairs.images), labels, tuple(names),
                        pairs.left.copy(), pairs.right.copy(), pairs.same.copy())


def from_people_file(path: str | os.PathLike, images: str | os.PathLike | None = None) -> TrainingData:
    """The images of the people listed in an LFW people file (``count`` then ``name n_images`` lines)."""
    source = Path(path).expanduser().absolute()
    _refuse_test_file(source)
    root = Path(images).expanduser().absolute() if images is not None else source.parent / "images"
    if not root.is_dir():
        raise TrainingDataError(root, "image folder not found")
    try:
        rows = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingDataError(source, f"cannot be read ({exc.__class__.__name__}: {exc})") from None
    if not rows or not rows[0].strip().isdigit():
        raise TrainingDataError(source, "the first line must be the number of people", 1)
    expected = int(rows[0])
    files: list[Path] = []
    labels: list[int] = []
    people: list[str] = []
    for line_no, row in enumerate(rows[1:], start=2):
        fields = row.split()
        if not fields:
            continue
        if len(fields) != 2 or not fields[1].isdigit() or int(fields[1]) < 1:
            raise TrainingDataError(source, f"expected 'name number_of_images', found {row.strip()!r}", line_no)
        name, count = fields[0], int(fields[1])
        for k in range(1, count + 1):
            image = root / name / f"{name}_{k:04d}.jpg"
            if not image.is_file():
                raise TrainingDataError(source, f"missing image {image}", line_no)
            files.append(image)
            labels.append(len(people))
        people.append(name)
    if len(people) != expected:
        raise TrainingDataError(source, f"the first line announces {expected} people, the file lists {len(people)}")
    none = np.zeros(0, dtype=np.int64)
    return TrainingData(source, "lfw-people", tuple(files), np.array(labels, dtype=np.int64), tuple(people),
                        none, none.copy(), np.zeros(0, dtype=bool))


def _images_in(folder: Path) -> list[Path]:
    return [Path(p) for p in find_images(folder).photos]


def from_identities(folder: str | os.PathLike) -> TrainingData:
    """The photos of a folder with one sub-folder per person (sub-folders without images are skipped)."""
    source = Path(folder).expanduser().absolute()
    if not source.is_dir():
        raise TrainingDataError(source, "folder of people not found")
    files: list[Path] = []
    labels: list[int] = []
    people: list[str] = []
    for sub in sorted(d for d in source.iterdir() if d.is_dir() and not d.name.startswith(".")):
        found = _images_in(sub)
        if found:
            files.extend(found)
            labels.extend([len(people)] * len(found))
            people.append(sub.name)
    none = np.zeros(0, dtype=np.int64)
    return TrainingData(source, "identities", tuple(files), np.array(labels, dtype=np.int64), tuple(people),
                        none, none.copy(), np.zeros(0, dtype=bool))


def load_training_data(*, pairs: str | os.PathLike | None = None, people: str | os.PathLike | None = None,
                       identities: str | os.PathLike | None = None,
                       images: str | os.PathLike | None = None) -> TrainingData:
    """One of the three sources (exactly one of ``pairs``, ``people``, ``identities``)."""
    given = [x is not None for x in (pairs, people, identities)]
    if sum(given) != 1:
        raise ValueError("give exactly one of pairs, people or identities")
    if pairs is not None:
        return from_pairs_file(pairs, images)
    if people is not None:
        return from_people_file(people, images)
    return from_identities(identities)


# ---------------------------------------------------------------------------------------------
# The validation split
# ---------------------------------------------------------------------------------------------
def _generated_pairs(groups: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matched pairs within each group (at most MAX_PAIRS_PER_PERSON each) and as many mismatched pairs."""
    matched: list[tuple[int, int]] = []
    for g in groups:
        if len(g) < 2:
            continue
        rows, cols = np.triu_indices(len(g), 1)
        take = rng.permutation(len(rows))[:MAX_PAIRS_PER_PERSON]
        matched.extend((int(g[rows[t]]), int(g[cols[t]])) for t in np.sort(take))
    owner = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)]) if groups else np.zeros(0)
    flat = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
    sizes = np.array([len(g) for g in groups])
    available = (sizes.sum() ** 2 - (sizes ** 2).sum()) // 2
    want = min(len(matched), int(available))
    mismatched: set[tuple[int, int]] = set()
    if available <= 4 * want:  # few people: enumerate every cross pair and draw from them
        everything = [(int(flat[i]), int(flat[j])) for i in range(len(flat)) for j in range(i + 1, len(flat))
                      if owner[i] != owner[j]]
        take = rng.permutation(len(everything))[:want]
        mismatched = {everything[t] for t in take}
    while len(mismatched) < want:
        i, j = rng.choice(len(flat), size=2, replace=False)
        if owner[i] != owner[j]:
            mismatched.add((int(min(flat[i], flat[j])), int(max(flat[i], flat[j]))))
    mism = sorted(mismatched)
    left = np.array([a for a, _ in matched] + [a for a, _ in mism], dtype=np.int64)
    right = np.array([b for _, b in matched] + [b for _, b in mism], dtype=np.int64)
    same = np.array([True] * len(matched) + [False] * len(mism), dtype=bool)
    return left, right, same


def _balance(idx: np.ndarray, same: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The pairs ``idx`` with the larger class subsampled to the size of the smaller (seeded)."""
    pos, neg = idx[same[idx]], idx[~same[idx]]
    n = min(len(pos), len(neg))
    return np.sort(np.concatenate([rng.permutation(pos)[:n], rng.permutation(neg)[:n]]))


def _pick_val_people(data: TrainingData, person_left: np.ndarray, person_right: np.ndarray,
                     val_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Validation people for a pairs source, drawn so that the pairs they touch stay balanced: a person
    with a matched pair while the validation part has fewer matched pairs, else one with none."""
    n_people = len(data.people)
    has_matched = np.zeros(n_people, dtype=bool)
    has_matched[person_left[data.same]] = True
    queues = [list(rng.permutation(np.flatnonzero(has_matched))), list(rng.permutation(np.flatnonzero(~has_matched)))]
    queues[0] = queues[0][:-1]  # at least one person with a matched pair stays for training
    pairs_of: list[list[int]] = [[] for _ in range(n_people)]
    for k, (a, b) in enumerate(zip(person_left, person_right)):
        pairs_of[a].append(k)
        if b != a:
            pairs_of[b].append(k)
    goal = max(1.0, val_fraction * min(data.same.sum(), (~data.same).sum()))
    touched = np.zeros(len(data.same), dtype=bool)
    chosen: list[int] = []
    matched = mismatched = 0
    while (matched < goal or mismatched < goal) and (queues[0] or queues[1]):
        want = 0 if (matched <= mismatched and queues[0]) or not queues[1] else 1
        person = int(queues[want].pop())
        chosen.append(person)
        new = [k for k in pairs_of[person] if not touched[k]]
        touched[new] = True
        matched += int(data.same[new].sum())
        mismatched += len(new) - int(data.same[new].sum())
    return np.array(sorted(chosen), dtype=np.int64)


def _check_counts(data: TrainingData, part: str, same: np.ndarray, need: int, hint: str) -> None:
    n_pos, n_neg = int(same.sum()), int((~same).sum())
    if n_pos < need or n_neg < need:
        raise TrainingDataError(data.source, f"too little data: the {part} part has {n_pos} same-person and "
                                             f"{n_neg} different-person pairs, at least {need} of each are "
                                             f"needed ({hint})")


def split(data: TrainingData, val_fraction: float = 0.2, seed: int = 0) -> Split:
    """Set aside about ``val_fraction`` of the people (seeded) for validation.

    Pairs source: validation = the matched pairs of the validation people and the mismatched pairs
    that involve one of them (balanced); training = the pairs with no validation person. People
    source: matched and mismatched pairs are drawn within each side. Raises TrainingDataError when
    either side is too small.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, not {val_fraction}")
    counts = np.bincount(data.labels, minlength=len(data.people))
    multi = np.flatnonzero(counts >= 2)
    hint = f"found {len(data.people)} people, {len(multi)} of them with 2 or more images"
    if len(multi) < MIN_PEOPLE:
        raise TrainingDataError(data.source, f"too little data: {hint}; at least {MIN_PEOPLE} people with 2 or "
                                             "more images are needed")
    rng = np.random.default_rng(seed)
    person_left = data.labels[data.left] if data.has_pairs else np.zeros(0, dtype=np.int64)
    person_right = data.labels[data.right] if data.has_pairs else np.zeros(0, dtype=np.int64)
    if data.has_pairs:
        val_ids = _pick_val_people(data, person_left, person_right, val_fraction, rng)
    else:
        k = min(len(multi) - 2, max(2, int(round(val_fraction * len(multi)))))
        val_ids = np.sort(rng.permutation(multi)[:k])
    is_val = np.zeros(len(data.people), dtype=bool)
    is_val[val_ids] = True
    image_val = is_val[data.labels]
    train_images = np.flatnonzero(~image_val)

    if data.has_pairs:
        touches = is_val[person_left] | is_val[person_right]
        train_idx = np.flatnonzero(~touches)
        val_idx = _balance(np.flatnonzero(touches), data.same, rng)
        tl, tr, ts = data.left[train_idx], data.right[train_idx], data.same[train_idx]
        vl, vr, vs = data.left[val_idx], data.right[val_idx], data.same[val_idx]
    else:
        def groups(ids: np.ndarray) -> list[np.ndarray]:
            return [np.flatnonzero(data.labels == p) for p in ids]
        train_ids = np.flatnonzero(~is_val & (counts > 0))
        tl, tr, ts = _generated_pairs(groups(train_ids), rng)
        vl, vr, vs = _generated_pairs(groups(val_ids), rng)
    _check_counts(data, "training", ts, MIN_TRAIN_PAIRS, hint)
    _check_counts(data, "validation", vs, MIN_VAL_PAIRS, hint)
    return Split(data, seed, tuple(data.people[i] for i in val_ids), tl, tr, ts, vl, vr, vs, train_images)
