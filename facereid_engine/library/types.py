"""Plain records the library hands out (to the GUI, the CLI and export)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..faces import Box


@dataclass(frozen=True)
class FaceInfo:
    """One face of the library and where it is filed."""

    id: int
    photo_id: int
    path: str                 # absolute path of the photo
    box: Box                  # dlib-style inclusive (left, top, right, bottom), original pixels
    score: float              # detection score
    sharpness: float          # variance of the Laplacian of its aligned chip
    person_id: int | None     # None: unsorted
    confirmed: bool           # the user filed it (kept by every regroup)

    @property
    def size(self) -> int:
        """Short side of the box in pixels."""
        return min(self.box[2] - self.box[0], self.box[3] - self.box[1]) + 1


@dataclass(frozen=True)
class Person:
    """An album: a person with a stable id, an optional name and counts of its visible faces."""

    id: int
    name: str | None
    face_count: int
    confirmed_count: int
    photo_count: int
    cover_face_id: int | None

    @property
    def display_name(self) -> str:
        return self.name if self.name else unnamed_label(self.id)


def unnamed_label(person_id: int) -> str:
    """The stable label of a person without a name."""
    return f"Person {person_id}"


@dataclass(frozen=True)
class PhotoError:
    path: str
    error: str


@dataclass(frozen=True)
class Suggestion:
    """Two people who may be one: ``distance`` is the root-mean-square distance between their faces."""

    person_a: int
    person_b: int
    distance: float


@dataclass(frozen=True)
class FaceRecord:
    """A face the scanner found, ready to be stored."""

    box: Box
    score: float
    landmarks: np.ndarray     # (5, 2) x, y
    sharpness: float
    embedding: np.ndarray     # float32 (dim,)
    thumbnail: bytes | None = None


@dataclass(frozen=True)
class GroupStats:
    """What a regroup did."""

    faces: int            # faces considered
    people: int           # people with at least one face afterwards
    unsorted: int         # faces left unsorted
    new_people: int       # people created by this regroup
    seconds: float


@dataclass(frozen=True)
class FacesToGroup:
    """What the grouping reads from the library, in one snapshot.

    ``rows``: per visible face with an embedding, (face id, photo id, path, left, top, right, bottom,
    score, sharpness, person id or -1, confirmed, embedding bytes (float32)); ``named``: ids of the
    named people; ``negatives``: "not this person" facts as (face id, person id).
    """

    rows: list[tuple]
    named: set[int]
    negatives: list[tuple[int, int]]
