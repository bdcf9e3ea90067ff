"""Labelled pair sets for verification: LFW-format pairs files and pairs drawn from a folder of people.

A :class:`PairSet` lists distinct images once and each pair as two indices into that list, with its
label (same person or not) and its fold. Every check runs while reading, so a malformed input fails
with :class:`PairSetError` (file and line) before any image is embedded.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataFileError

from ..folders import find_images

# Image file names of the LFW format are ``<name>_<number:04d><extension>``; ``.jpg`` is tried first.
_LFW_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _absolute(path: str | os.PathLike) -> Path:
    """Absolute and normalised (``..`` removed, links kept), so one file always has one name."""
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


class PairSetError(DataFileError):
    """A pairs file or a folder of people cannot be used; names the file, the line (if any) and the cause."""

    def __init__(self, path: str | os.PathLike, line: int | None, cause: str):
        super().__init__(path, cause, line)


@dataclass(frozen=True, eq=False)
class PairSet:
    """Pairs of images labelled same / different person, split into folds.

    Attributes:
        source: the pairs file or the folder of people it came from.
        kind: ``"lfw-pairs"`` (a pairs file) or ``"identities"`` (generated from a folder of people).
        images: distinct image paths (absolute), each listed once.
        left, right: (P,) indices into ``images``: the two images of each pair.
        same: (P,) bool, True for a matched pair (same person).
        fold: (P,) int in ``[0, n_folds)``.
        n_folds: number of folds (1 for LFW View 1 files).
        lines: (P,) 1-based line of each pair in ``source`` (0 for generated pairs).
        seed: the seed generated pairs were drawn with (None for a file).
    """

    source: Path
    kind: str
    images: tuple[Path, ...]
    left: np.ndarray
    right: np.ndarray
    same: np.ndarray
    fold: np.ndarray
    n_folds: int
    lines: np.ndarray
    seed: int | None = None

    @property
    def n_pairs(self) -> int:
        return int(len(self.same))

    @property
    def n_matched(self) -> int:
        return int(np.count_nonzero(self.same))

    @property
    def n_mismatched(self) -> int:
        return self.n_pairs - self.n_matched

    def describe(self) -> dict:
        """A JSON-ready summary: where the pairs come from and how many there are."""
        out = {"source": str(self.source), "kind": self.kind, "n_pairs": self.n_pairs,
               "n_matched": self.n_matched, "n_mismatched": self.n_mismatched,
               "n_folds": self.n_folds, "n_images": len(self.images)}
        if self.seed is not None:
            out["seed"] = self.seed
        return out


# ---------------------------------------------------------------------------------------------
# LFW-format pairs files
# ---------------------------------------------------------------------------------------------
def _positive_int(text: str, path: Path, line: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise PairSetError(path, line, f"{what} must be a whole number, found {text!r}") from None
    if value < 1:
        raise PairSetError(path, line, f"{what} must be at least 1, found {value}")
    return value


def _parse_header(fields: list[str], path: Path) -> tuple[int, int]:
    """``n_folds n_per_class`` (View 2) or ``n_per_class`` (View 1, one fold)."""
    if len(fields) == 1:
        return 1, _positive_int(fields[0], path, 1, "the number of pairs of each kind")
    if len(fields) == 2:
        return (_positive_int(fields[0], path, 1, "the number of folds"),
                _positive_int(fields[1], path, 1, "the number of pairs of each kind per fold"))
    raise PairSetError(path, 1, "the first line must be 'FOLDS PAIRS' or 'PAIRS' "
                                f"(e.g. '10 300' or '1100'), found {' '.join(fields)!r}")


class _ImageResolver:
    """Finds ``<root>/<name>/<name>_NNNN.<ext>`` and says which part is missing."""

    def __init__(self, root: Path, source: Path):
        self.root = root
        self.source = source
        self._people: dict[str, bool] = {}
        self._files: dict[tuple[str, int], Path] = {}

    def __call__(self, name: str, number: int, line: int) -> Path:
        key = (name, number)
        found = self._files.get(key)
        if found is not None:
            return found
        if name not in self._people:
            self._people[name] = (self.root / name).is_dir()
        if not self._people[name]:
            raise PairSetError(self.source, line, f"unknown name {name!r}: no folder {self.root / name}")
        for ext in _LFW_EXTENSIONS:
            candidate = self.root / name / f"{name}_{number:04d}{ext}"
            if candidate.is_file():
                self._files[key] = candidate
                return candidate
        raise PairSetError(self.source, line,
                           f"missing image {self.root / name / f'{name}_{number:04d}.jpg'} ({name} #{number})")


def read_pairs_file(path: str | os.PathLike, images: str | os.PathLike | None = None) -> PairSet:
    """Read an LFW-format pairs file (``pairs.txt``, ``pairsDevTrain.txt``, ``pairsDevTest.txt``).

    The first line is ``FOLDS PAIRS`` (each fold: PAIRS matched lines ``name n1 n2`` then PAIRS
    mismatched lines ``name1 n1 name2 n2``) or just ``PAIRS`` (one fold). Image numbers are 1-based.

    Args:
        path: the pairs file.
        images: the folder holding ``<name>/<name>_NNNN.jpg``; by default ``images/`` next to the
            file when it exists, else the file's own folder.

    Raises:
        PairSetError: unreadable file, bad header, wrong field count, bad number, wrong number of
            lines, unknown name, missing image, or a pair that makes no sense (an image paired with
            itself, a "mismatched" pair of one person) -- with the file and line.
    """
    source = _absolute(path)
    if images is None:
        root = source.parent / "images" if (source.parent / "images").is_dir() else source.parent
    else:
        root = _absolute(images)
    if not root.is_dir():
        raise PairSetError(source, None, f"image folder {root} does not exist")
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PairSetError(source, None, "file not found") from None
    except IsADirectoryError:
        raise PairSetError(source, None, "is a folder, not a pairs file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PairSetError(source, None, f"cannot be read ({exc})") from None

    rows = text.splitlines()
    if not rows or not rows[0].strip():
        raise PairSetError(source, 1, "empty file: the first line must be 'FOLDS PAIRS' or 'PAIRS'")
    n_folds, per_class = _parse_header(rows[0].split(), source)
    expected = n_folds * 2 * per_class
    resolve = _ImageResolver(root, source)

    index: dict[Path, int] = {}
    left: list[int] = []
    right: list[int] = []
    same: list[bool] = []
    fold: list[int] = []
    lines: list[int] = []

    def image_index(p: Path) -> int:
        if p not in index:
            index[p] = len(index)
        return index[p]

    line_no = 1
    for line_no, row in enumerate(rows[1:], start=2):
        fields = row.split()
        if not fields:
            continue  # blank lines are ignored
        k = len(same)
        if k >= expected:
            raise PairSetError(source, line_no, f"unexpected line after the {expected} pairs that the "
                                                f"header {rows[0].strip()!r} announces")
        f, within = divmod(k, 2 * per_class)
        matched = within < per_class
        kind = "matched" if matched else "mismatched"
        position = f"fold {f + 1}, {kind} pair {within % per_class + 1} of {per_class}"
        if matched:
            if len(fields) != 3:
                raise PairSetError(source, line_no, f"expected a matched pair 'name n1 n2' ({position}), "
                                                    f"found {len(fields)} fields: {row.strip()!r}")
            name, n1, n2 = fields[0], _positive_int(fields[1], source, line_no, "an image number"), \
                _positive_int(fields[2], source, line_no, "an image number")
            if n1 == n2:
                raise PairSetError(source, line_no, f"matched pair of image {n1} of {name} with itself")
            a, b = resolve(name, n1, line_no), resolve(name, n2, line_no)
        else:
            if len(fields) != 4:
                raise PairSetError(source, line_no, f"expected a mismatched pair 'name1 n1 name2 n2' "
                                                    f"({position}), found {len(fields)} fields: {row.strip()!r}")
            name1, name2 = fields[0], fields[2]
            n1 = _positive_int(fields[1], source, line_no, "an image number")
            n2 = _positive_int(fields[3], source, line_no, "an image number")
            if name1 == name2:
                raise PairSetError(source, line_no, f"mismatched pair names one person twice ({name1})")
            a, b = resolve(name1, n1, line_no), resolve(name2, n2, line_no)
        left.append(image_index(a))
        right.append(image_index(b))
        same.append(matched)
        fold.append(f)
        lines.append(line_no)
    if len(same) < expected:
        raise PairSetError(source, line_no, f"the file ends after {len(same)} pairs; the header "
                                            f"{rows[0].strip()!r} announces {expected}")
    return PairSet(source=source, kind="lfw-pairs", images=tuple(index), left=np.array(left, dtype=np.int64),
                   right=np.array(right, dtype=np.int64), same=np.array(same, dtype=bool),
                   fold=np.array(fold, dtype=np.int64), n_folds=n_folds, lines=np.array(lines, dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# A folder with one sub-folder per person
# ---------------------------------------------------------------------------------------------
def _person_images(folder: Path) -> list[Path]:
    return [Path(p) for p in find_images(folder).photos]


def _assign_folds(counts: list[int], n_folds: int, rng: np.random.Generator) -> list[int]:
    """Fold of each person: people with 2+ images dealt first (most images first, snake order), then
    the others to the folds with the fewest people. Fold sizes differ by at most one person."""
    order = rng.permutation(len(counts))
    multi = sorted((i for i in order if counts[i] >= 2), key=lambda i: -counts[i])  # stable: seeded ties
    single = [i for i in order if counts[i] < 2]
    folds = [0] * len(counts)
    sizes = [0] * n_folds
    for rank, i in enumerate(multi):
        lap, pos = divmod(rank, n_folds)
        f = pos if lap % 2 == 0 else n_folds - 1 - pos
        folds[i] = f
        sizes[f] += 1
    for i in single:
        f = min(range(n_folds), key=lambda g: (sizes[g], g))
        folds[i] = f
        sizes[f] += 1
    return folds


def _matched_pairs(people: list[list[int]], n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Up to ``n`` distinct within-person pairs, taken in turn from each person (seeded order)."""
    queues = []
    for images in people:
        k = len(images)
        if k < 2:
            continue
        rows, cols = np.triu_indices(k, 1)
        take = rng.choice(len(rows), size=min(len(rows), n), replace=False)
        queues.append([(images[rows[t]], images[cols[t]]) for t in take])
    order = rng.permutation(len(queues))
    out: list[tuple[int, int]] = []
    depth = 0
    while len(out) < n and any(depth < len(q) for q in queues):
        for q in order:
            if depth < len(queues[q]) and len(out) < n:
                out.append(queues[q][depth])
        depth += 1
    return out


def _mismatched_pairs(people: list[list[int]], n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``n`` distinct pairs of images of two different people (seeded)."""
    sizes = [len(p) for p in people]
    available = (sum(sizes) ** 2 - sum(k * k for k in sizes)) // 2
    if available <= 50 * n:
        everything = [(a, b) for i in range(len(people)) for j in range(i + 1, len(people))
                      for a in people[i] for b in people[j]]
        take = rng.choice(len(everything), size=n, replace=False)
        return [everything[t] for t in sorted(take)]
    seen: set[tuple[int, int]] = set()
    out: list[tuple[int, int]] = []
    while len(out) < n:
        i, j = rng.choice(len(people), size=2, replace=False)
        a = people[i][rng.integers(len(people[i]))]
        b = people[j][rng.integers(len(people[j]))]
        key = (min(a, b), max(a, b))
        if key not in seen:
            seen.add(key)
            out.append((a, b))
    return out


def identity_pairs(folder: str | os.PathLike, *, n_folds: int = 10, pairs_per_fold: int = 300,
                   seed: int = 0) -> PairSet:
    """Matched and mismatched pairs drawn from a folder with one sub-folder of photos per person.

    People are split into ``n_folds`` folds so that no person appears in two folds; each fold gets
    as many matched as mismatched pairs: ``pairs_per_fold`` of each, or fewer when its people do
    not allow that many. Matched pairs are taken in turn from each person so that no one dominates. The same
    folder, folds and seed always give the same pairs.

    Raises:
        PairSetError: the folder is missing, or it has too few people or images for the folds.
    """
    source = _absolute(folder)
    if not source.is_dir():
        raise PairSetError(source, None, "folder of people not found")
    if n_folds < 1 or pairs_per_fold < 1:
        raise PairSetError(source, None, f"folds and pairs per fold must be at least 1 "
                                         f"(got {n_folds} and {pairs_per_fold})")
    names = sorted(d.name for d in source.iterdir() if d.is_dir() and not d.name.startswith("."))
    person_files = [_person_images(source / name) for name in names]
    kept = [(name, files) for name, files in zip(names, person_files) if files]
    counts = [len(files) for _, files in kept]
    n_multi = sum(c >= 2 for c in counts)
    if n_multi < n_folds or len(kept) < 2 * n_folds:
        raise PairSetError(source, None, (
            f"too few people for {n_folds} fold(s): found {len(kept)} people with images, {n_multi} of them "
            f"with 2 or more; each fold needs at least one person with 2+ images and two people, so "
            f"at least {n_folds} people with 2+ images and {2 * n_folds} people in all"))
    rng = np.random.default_rng(seed)
    person_fold = _assign_folds(counts, n_folds, rng)

    images: list[Path] = []
    person_indices: list[list[int]] = []
    for _, files in kept:
        person_indices.append(list(range(len(images), len(images) + len(files))))
        images.extend(files)

    left: list[int] = []
    right: list[int] = []
    same: list[bool] = []
    fold: list[int] = []
    for f in range(n_folds):
        members = [person_indices[i] for i in range(len(kept)) if person_fold[i] == f]
        sizes = [len(p) for p in members]
        matched_available = sum(math.comb(k, 2) for k in sizes)
        mismatched_available = (sum(sizes) ** 2 - sum(k * k for k in sizes)) // 2
        n = min(pairs_per_fold, matched_available, mismatched_available)
        for group, is_same in ((_matched_pairs(members, n, rng), True), (_mismatched_pairs(members, n, rng), False)):
            for a, b in group:
                left.append(a)
                right.append(b)
                same.append(is_same)
                fold.append(f)
    # Keep only images used by some pair, in first-use order.
    used: dict[int, int] = {}
    for a, b in zip(left, right):
        used.setdefault(a, len(used))
        used.setdefault(b, len(used))
    order = sorted(used, key=used.get)
    remap = np.zeros(len(images), dtype=np.int64)
    remap[order] = np.arange(len(order))
    return PairSet(source=source, kind="identities", images=tuple(images[i] for i in order),
                   left=remap[np.array(left, dtype=np.int64)], right=remap[np.array(right, dtype=np.int64)],
                   same=np.array(same, dtype=bool), fold=np.array(fold, dtype=np.int64), n_folds=n_folds,
                   lines=np.zeros(len(same), dtype=np.int64), seed=seed)
