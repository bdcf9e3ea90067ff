"""Indexing on Ray (the ``cluster`` extra): a local two-CPU Ray indexes the group photos; the index,
imported into a library, equals a single-machine scan of the same photos. One worker is killed
mid-run (its process exits) and Ray redoes its batch: nothing lost, nothing twice. Reruns continue.

Skipped when Ray is not installed (the core install has no Ray).
"""
from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("pyarrow")

from albums_support import albums, copy_library, group_library_file  # noqa: E402
from data_paths import GROUP  # noqa: E402

from facereid_engine.cluster import index_work  # noqa: E402
from facereid_engine.cluster.shards import done_photos, read_manifest, read_photos, shard_paths  # noqa: E402
from facereid_engine.cluster.worker import CRASH_ONCE_ENV  # noqa: E402
from facereid_engine.library import Library  # noqa: E402
from facereid_engine.library.index_import import import_index_work  # noqa: E402
from facereid_engine.library.scanning import ScanSettings  # noqa: E402
from facereid_engine.progress import run  # noqa: E402

RAY_START_SECONDS = 120
CRASH_ON = "face_recognition_obama1.jpg"     # the worker holding this photo dies, once
DLIB = ScanSettings(encoder="dlib")            # as the single-machine scan it is compared with


def _alarm(seconds: int):
    def fail(*_):
        raise TimeoutError(f"Ray did not answer within {seconds} s")
    signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """A local Ray of two CPUs on 127.0.0.1, its workers told to die once on CRASH_ON."""
    _alarm(RAY_START_SECONDS)
    try:
        ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {CRASH_ONCE_ENV: CRASH_ON, "OMP_WAIT_POLICY": "PASSIVE"}})
    finally:
        signal.alarm(0)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def index(local_ray, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("index") / "group"
    result = run(index_work(GROUP, out, ray_address=None, settings=DLIB, batch_size=4, workers=2))
    assert (out / ".crashed-once").exists(), "the worker holding the crash photo did not die"
    assert result.indexed == result.photos == 24 and result.skipped == 0 and not result.errors, result.summary()
    return out


def test_index_holds_every_photo_once_after_a_worker_died(index):
    manifest = read_manifest(index)
    assert manifest["root"] == str(GROUP) and manifest["encoder"] == "dlib"
    shards = shard_paths(index)
    assert len(shards) == 6                                       # 24 photos in batches of 4
    assert not [p for p in (index / "shards").iterdir() if p.name.startswith(".")]  # no half-written shard
    photos = list(read_photos(index))
    assert len(photos) == 24 and len({p["path"] for p in photos}) == 24
    import pyarrow.parquet as pq
    rows = sum(pq.read_metadata(s).num_rows for s in shards)
    assert rows == sum(max(1, len(p["faces"])) for p in photos)   # no row written twice


def test_index_equals_a_single_machine_scan(index, tmp_path):
    with Library(tmp_path / "imported.sqlite") as lib:
        result = run(import_index_work(lib, index))
        assert result.new == 24 and not result.errors
        with Library(group_library_file(), readonly=True) as scanned:
            assert albums(lib, GROUP) == albums(scanned, GROUP)
            mine = {(f.path, f.box): f for f in lib.faces()}
            theirs = {(f.path, f.box): f for f in scanned.faces()}
            assert mine.keys() == theirs.keys()
            keys = sorted(mine)
            a = lib.embeddings([mine[k].id for k in keys])
            b = scanned.embeddings([theirs[k].id for k in keys])
            # Embedding a batch's chips together, not photo by photo, moves the last float32 bits only.
            assert np.abs(a - b).max() <= 1e-5
            for k in keys:
                assert mine[k].score == pytest.approx(theirs[k].score, abs=1e-6)
                assert mine[k].sharpness == pytest.approx(theirs[k].sharpness, rel=1e-6)
                assert lib.face_thumbnail(mine[k].id) == scanned.face_thumbnail(theirs[k].id)


def test_importing_again_changes_nothing(index, tmp_path):
    lib_path = copy_library(tmp_path / "lib.sqlite")        # a library that scanned the photos already
    with Library(lib_path) as lib:
        before = albums(lib, GROUP)
        result = run(import_index_work(lib, index))
        assert result.unchanged == 24 and result.new == result.changed == 0
        assert albums(lib, GROUP) == before


def test_rerun_skips_what_is_done_and_redoes_a_lost_shard(index, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(index, out)
    again = run(index_work(GROUP, out, ray_address=None, settings=DLIB, batch_size=4))
    assert again.indexed == 0 and again.skipped == 24
    lost = shard_paths(out)[0]
    lost_photos = {p for p, _, _ in done_photos(out)} - _paths_without(out, lost)
    lost.unlink()
    redo = run(index_work(GROUP, out, ray_address=None, settings=DLIB, batch_size=4))
    assert redo.indexed == len(lost_photos) == 4 and redo.skipped == 20
    assert len({p["path"] for p in read_photos(out)}) == 24


def _paths_without(out: Path, shard: Path) -> set[str]:
    import pyarrow.parquet as pq
    return {p for s in shard_paths(out) if s != shard for p in pq.read_table(s, columns=["path"]).column(0).to_pylist()}


def test_index_refuses_other_settings_and_the_photo_folder(index, tmp_path):
    from facereid_engine.cluster.shards import IndexError_
    from facereid_engine.library.scanning import ScanError, ScanSettings
    with pytest.raises(IndexError_, match="encoder"):
        run(index_work(GROUP, index, ray_address=None, settings=ScanSettings(encoder="sface")))
    with pytest.raises(ScanError, match="inside the photo folder"):
        run(index_work(GROUP, GROUP / "index", ray_address=None))
    assert not (GROUP / "index").exists()


def test_cli_index_and_import(index, tmp_path, capsys):
    from facereid_engine.cli import main
    out = tmp_path / "cli-index"
    shutil.copytree(index, out)
    assert main(["index", str(GROUP), "--out", str(out), "--ray", "auto", "--json", "--no-progress"]) == 0
    assert '"skipped": 24' in capsys.readouterr().out
    lib = tmp_path / "cli.sqlite"
    assert main(["albums", "--import-index", str(out), "--library", str(lib), "--no-progress"]) == 0
    assert "24 new" in capsys.readouterr().out
    assert main(["albums", "--import-index", str(tmp_path), "--library", str(lib)]) == 2
    assert "not a FaceReID index" in capsys.readouterr().err
    assert os.path.exists(lib)


def test_a_photo_that_cannot_be_read_is_indexed_as_an_error(tmp_path):
    """Without Ray: the worker's batch with a damaged photo, written as a shard, imported."""
    from facereid_engine.cluster.shards import open_index, shard_name, write_shard
    from facereid_engine.cluster.worker import index_photos
    from facereid_engine.library.scanning import ScanSettings
    from facereid_engine.pipeline import FacePipeline
    root = tmp_path / "photos"
    root.mkdir()
    good = root / "a.jpg"
    shutil.copy2(GROUP / "photos" / CRASH_ON, good)
    bad = root / "b.jpg"
    bad.write_bytes(b"not a JPEG")
    photos = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in (good, bad)]
    out = open_index(tmp_path / "index", {"root": str(root), "encoder": "dlib", "detector": DLIB.detector})
    rows, faces, errors = index_photos(FacePipeline("dlib"), photos)
    assert faces == [1, 0] and errors[0] is None and errors[1]
    write_shard(out, shard_name(photos), rows)
    with Library(tmp_path / "lib.sqlite") as lib:
        result = run(import_index_work(lib, out))
        assert result.new == 1 and [e.path for e in result.errors] == [str(bad)]
        assert [e.path for e in lib.errors()] == [str(bad)] and len(lib.faces()) == 1
