"""Files FaceReID reads are data, never code: a planted pickle whose unpickling would create a marker
file, put wherever FaceReID reads from under FACEREID_HOME, is never run; and no source reads a
pickle (``pickle.load``, ``np.load`` without ``allow_pickle=False``, ``torch.load`` without
``weights_only=True``, ``eval``/``exec``)."""
from __future__ import annotations

import ast
import json
import os
import pickle
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import torch
from data_paths import GROUP, ROOT

from facereid_engine import paths
from facereid_engine.errors import FaceReIDError


class _Boom:
    """Unpickling this creates ``path`` (through ``eval``, so that any unpickler that runs code shows it)."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (eval, (f"open({self.path!r}, 'w').close()",))


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A FACEREID_HOME of this test's own: what is planted here is seen by nothing else."""
    monkeypatch.setenv("FACEREID_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "MARKER"
    payload = pickle.dumps(_Boom(path))
    pickle.loads(payload)                       # the payload works: unpickled, it makes the marker
    assert path.exists()
    path.unlink()
    return path


def _evil(marker: Path) -> bytes:
    return pickle.dumps(_Boom(marker))


def test_the_charts_cache(marker):
    from facereid_gui.jobs import charts
    planted = [charts.cache_path(), paths.cache_dir() / "charts-last-evaluation.pickle"]
    for path in planted:
        path.write_bytes(_evil(marker))
    assert charts.load_last() is None and not marker.exists()
    charts.cache_path().write_text(json.dumps({"source": {"kind": "pairs"}, "evaluation": [1, 2]}))
    assert charts.load_last() is None                                   # foreign JSON: ignored too


def test_the_charts_cache_keeps_a_real_evaluation():
    from facereid_gui.jobs import charts
    from facereid_engine.progress import run
    source = charts.PairSource("people", str(GROUP / "enrollment"), folds=2)
    got_source, evaluation = run(charts.evaluate_source(source, ["dlib"]))
    restored_source, restored = charts.load_last()
    assert restored_source == source == got_source
    assert set(restored.results) == {"dlib"} and set(restored.results["dlib"]) == set(evaluation.results["dlib"])
    for distance, result in evaluation.results["dlib"].items():
        again = restored.results["dlib"][distance]
        assert np.array_equal(again.distances, result.distances) and np.array_equal(again.same, result.same)
        assert (again.auc, again.eer, again.threshold) == (result.auc, result.eer, result.threshold)
    assert restored.pairs.images == evaluation.pairs.images and restored.to_json() == evaluation.to_json()


def test_the_embedding_cache(marker):
    from facereid_engine.evaluation.embedding_cache import EmbeddingCache
    folder = paths.cache_dir() / "embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("evil.sqlite", "evil.npz", "evil.npy", "evil.pkl", "evil.pickle"):
        (folder / name).write_bytes(_evil(marker))
    try:
        EmbeddingCache("evil").close()
    except (FaceReIDError, sqlite3.DatabaseError):
        pass                                   # refusing the file is fine; running it is not
    assert not marker.exists()


def test_trained_models(marker):
    from facereid_engine.training.store import list_trained, load_trained_encoder
    folder = paths.models_dir()
    torch.save({"weight": _Boom(marker)}, folder / "dlib+evil.pt")
    (folder / "dlib+evil.json").write_text(json.dumps({"format": 1, "name": "dlib+evil", "base": "dlib",
                                                       "method": "metric", "head": {"method": "metric", "dim": 8}}))
    (folder / "dlib+raw.pt").write_bytes(_evil(marker))
    (folder / "dlib+raw.json").write_bytes(_evil(marker))
    assert "dlib+evil" in list_trained()
    for name in ("dlib+evil", "dlib+raw"):
        with pytest.raises(FaceReIDError):
            load_trained_encoder(name)
    assert not marker.exists()


def test_the_library_file(marker):
    from facereid_engine.library import Library, LibraryError
    path = paths.default_library_path()
    assert not path.exists()
    path.write_bytes(_evil(marker))
    for readonly in (False, True):
        with pytest.raises(LibraryError, match="not a FaceReID library"):
            Library(readonly=readonly)
    assert not marker.exists() and path.read_bytes() == _evil(marker)


def test_the_landmarks_model_cache(marker, tmp_path):
    from facereid_engine.landmarks import model_file
    copy = tmp_path / "shape_predictor_5_face_landmarks.dat"
    shutil.copyfile(paths.dlib_model_path(copy.name), copy)
    cache = model_file.cache_path(copy)
    with open(cache, "wb") as f:                 # an npz whose arrays are pickled objects
        np.savez(f, **{name: np.array([_Boom(marker)], dtype=object)
                       for name in model_file.ShapePredictorModel.__dataclass_fields__})
    model = model_file.load_shape_predictor_model(copy)
    assert model.leaves.ndim == 4 and not marker.exists()


def test_the_gui_settings(marker):
    from PySide6.QtCore import QSettings
    from facereid_gui.main_window import open_settings, settings_file
    # Written by another process (QSettings shares one cache per file inside a process).
    text = ("[window]\npage=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x18PySide::PyObjectWrapper\\0\\0\\0\\0"
            + _qt_bytes(len(_evil(marker)).to_bytes(4, "big") + _evil(marker)) + ")\n")
    settings_file().write_text(text, encoding="latin-1")
    settings = open_settings()
    assert isinstance(settings, QSettings)
    try:
        settings.value("window/page", 0)
    except RuntimeError:
        pass                    # PySide refuses to unpickle anything but builtin types: never run
    assert not marker.exists()


def _qt_bytes(data: bytes) -> str:
    """Bytes as QSettings writes them inside an INI @Variant(...)."""
    return "".join(chr(b) if 0x20 < b < 0x7f and chr(b) not in '\\"();=,' else f"\\x{b:x}" if b else "\\0"
                   for b in data)


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f"{getattr(f.value, 'id', '?')}.{f.attr}" \
                if isinstance(f, ast.Attribute) else "?"
            yield name, node


def test_no_source_reads_a_pickle():
    found = []
    for package in ("facereid_engine", "facereid_gui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for name, node in _calls(tree):
                keywords = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if name in ("pickle.load", "pickle.loads", "pickle.Unpickler", "eval", "exec", "marshal.loads",
                            "shelve.open", "dill.load", "joblib.load"):
                    found.append(f"{where}: {name}")
                elif name == "np.load" and keywords.get("allow_pickle") is not False:
                    found.append(f"{where}: np.load without allow_pickle=False")
                elif name == "torch.load" and keywords.get("weights_only") is not True:
                    found.append(f"{where}: torch.load without weights_only=True")
    assert found == []
    assert os.path.isdir(ROOT / "facereid_engine")
