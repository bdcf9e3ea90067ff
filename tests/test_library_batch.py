"""Library.batch(): many writes in one transaction, as the index import uses it (a real SQLite file)."""
from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest

from facereid_engine.library import Library
from facereid_engine.library.types import FaceRecord


def _face(embedding=None) -> FaceRecord:
    return FaceRecord(box=(1, 2, 50, 60), score=1.0, landmarks=np.zeros((5, 2)), sharpness=50.0,
                      embedding=np.ones(128, np.float32) if embedding is None else embedding)


def _photos_seen_by_another_connection(path) -> int:
    with sqlite3.connect(path) as other:
        return other.execute("SELECT COUNT(*) FROM photos").fetchone()[0]


def test_a_batch_commits_once_at_its_end(tmp_path):
    path = tmp_path / "lib.sqlite"
    with Library(path) as lib:
        with lib.batch():
            for i in range(3):
                lib.record_photo(f"/photos/{i}.jpg", 10, 20, 100, 100, [_face()], "dlib", "mmod")
            lib.record_error("/photos/broken.jpg", 1, 2, "cannot identify image file")
            assert lib.counts()["photos"] == 4               # the batch sees its own writes
            assert _photos_seen_by_another_connection(path) == 0  # nobody else does yet
        assert _photos_seen_by_another_connection(path) == 4


def test_an_exception_leaving_the_batch_undoes_all_of_it(tmp_path):
    with Library(tmp_path / "lib.sqlite") as lib:
        lib.record_photo("/photos/before.jpg", 10, 20, 100, 100, [_face()], "dlib", "mmod")
        with pytest.raises(RuntimeError, match="stop"):
            with lib.batch():
                lib.record_photo("/photos/a.jpg", 10, 20, 100, 100, [_face()], "dlib", "mmod")
                raise RuntimeError("stop")
        assert sorted(lib.photo_index("/photos")) == ["/photos/before.jpg"]
        assert lib.counts()["faces"] == 1


def test_a_failed_write_inside_a_batch_undoes_only_itself(tmp_path):
    with Library(tmp_path / "lib.sqlite") as lib:
        with lib.batch():
            lib.record_photo("/photos/a.jpg", 10, 20, 100, 100, [_face()], "dlib", "mmod")
            with pytest.raises(TypeError):  # the second face cannot be stored: that photo rolls back whole
                lib.record_photo("/photos/b.jpg", 10, 20, 100, 100, [_face(), _face(object())], "dlib", "mmod")
            lib.record_photo("/photos/c.jpg", 10, 20, 100, 100, [_face()], "dlib", "mmod")
        assert sorted(lib.photo_index("/photos")) == ["/photos/a.jpg", "/photos/c.jpg"]
        assert lib.counts()["faces"] == 2


def test_another_thread_waits_for_the_batch_and_then_sees_all_of_it(tmp_path):
    with Library(tmp_path / "lib.sqlite") as lib:
        seen: list[int] = []
        reader = threading.Thread(target=lambda: seen.append(lib.counts()["photos"]))
        with lib.batch():
            lib.record_photo("/photos/a.jpg", 10, 20, 100, 100, [_face()], "dlib", "mmod")
            reader.start()
            reader.join(0.2)
            assert reader.is_alive() and seen == []   # blocked on the library's lock, not reading half a batch
            lib.record_photo("/photos/b.jpg", 10, 20, 100, 100, [_face()], "dlib", "mmod")
        reader.join(60)
        assert seen == [2]
