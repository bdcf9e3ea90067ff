"""Property-based corrections on a real library (Hypothesis): any sequence of renames, merges, moves,
splits, "not this person", "not a face", undos and regroups keeps the SQLite file intact, keeps every
confirmed face with its person through any regroup, never puts one photo twice in a person, and never
touches the photos. Refused corrections are LibraryErrors, nothing else."""
from __future__ import annotations

import sqlite3

from albums_support import copy_library, tree_digest
from data_paths import GROUP
from hypothesis import HealthCheck, given, settings, strategies as st

from facereid_engine.library import Library, LibraryError

ACTIONS = ("rename", "merge", "move", "split", "not_this_person", "not_a_face", "undo", "group")
step = st.tuples(st.sampled_from(ACTIONS), st.integers(0, 10_000), st.integers(0, 10_000),
                 st.text(max_size=12))


def _apply(lib: Library, action: str, a: int, b: int, text: str) -> None:
    people = lib.people()
    faces = [f for p in people for f in lib.faces(p.id)] + lib.unsorted()
    if action == "group":
        lib.group(full=bool(a % 2))
    elif action == "undo":
        lib.undo()
    elif not people or not faces:
        return
    elif action == "rename":
        lib.rename(people[a % len(people)].id, text or None)
    elif action == "merge":
        lib.merge([people[a % len(people)].id, people[b % len(people)].id])
    elif action == "move":
        lib.move_faces([faces[a % len(faces)].id], people[b % len(people)].id)
    elif action == "split":
        lib.split([faces[a % len(faces)].id], name=text or None)
    elif action == "not_this_person":
        face = faces[a % len(faces)]
        if face.person_id is not None:
            lib.not_this_person([face.id], face.person_id)
    elif action == "not_a_face":
        lib.not_a_face([faces[a % len(faces)].id])


def _check(path, lib: Library) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for person in lib.people():
        photos = [f.photo_id for f in lib.faces(person.id)]
        assert len(photos) == len(set(photos)), "one photo twice in a person"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_any_corrections_keep_the_library_sound(tmp_path_factory, steps):
    path = copy_library(tmp_path_factory.mktemp("props") / "lib.sqlite")
    before = tree_digest(GROUP)
    with Library(path) as lib:
        for action, a, b, text in steps:
            try:
                _apply(lib, action, a, b, text)
            except LibraryError:
                pass  # a refused correction says why and changes nothing
            _check(path, lib)
        confirmed = {f.id: p.id for p in lib.people() for f in lib.faces(p.id) if f.confirmed}
        lib.group(full=True)
        after = {f.id: p.id for p in lib.people() for f in lib.faces(p.id)}
        assert all(after.get(face) == person for face, person in confirmed.items()), "a regroup moved a fact"
        _check(path, lib)
    assert tree_digest(GROUP) == before
