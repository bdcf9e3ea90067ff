"""The index on disk: a manifest and Parquet shards of faces, written whole or not at all.

An index folder holds ``index.json`` (what was indexed, and how) and ``shards/*.parquet``. A shard is
the outcome of one batch of photos: one row per face, and one row (``face`` = -1) for a photo without
a face or that could not be read, so every photo indexed appears in exactly one shard. A shard is
written to a temporary name and renamed, so a killed worker leaves no half shard; its name is a
hash of its photos, so a batch done twice (a retried task) writes the same file again, never a second
copy. Reading keeps one shard per photo (the first by name) whatever happened.

Files read are data: the manifest is JSON, validated; shards are Parquet read with pyarrow.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..errors import FaceReIDError

FORMAT, VERSION = "facereid-index", 1
MANIFEST = "index.json"
SHARDS = "shards"
#: The manifest entries that must agree for a rerun to continue an index.
SETTINGS_KEYS = ("root", "encoder", "detector")


class IndexError_(FaceReIDError):
    """An index folder that is damaged, foreign, or made with other settings."""


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - the extra is missing
        raise IndexError_("reading or writing an index needs pyarrow: pip install 'facereid[cluster]'") from None
    return pa, pq


def schema():
    pa, _ = _pyarrow()
    return pa.schema([
        ("path", pa.string()), ("size", pa.int64()), ("mtime_ns", pa.int64()), ("width", pa.int32()),
        ("height", pa.int32()), ("error", pa.string()), ("face", pa.int32()),
        ("left", pa.int32()), ("top", pa.int32()), ("right", pa.int32()), ("bottom", pa.int32()),
        ("score", pa.float64()), ("sharpness", pa.float64()), ("landmarks", pa.list_(pa.float32())),
        ("embedding", pa.list_(pa.float32())), ("thumbnail", pa.binary()),
    ])


def read_manifest(folder: str | os.PathLike) -> dict | None:
    """The index's manifest, or None when the folder holds no index yet."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexError_(f"{path}: not a FaceReID index manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION \
            or not all(isinstance(data.get(k), str) for k in SETTINGS_KEYS):
        raise IndexError_(f"{path}: not a FaceReID index manifest (format {FORMAT} version {VERSION})")
    return data


def open_index(folder: str | os.PathLike, settings: dict) -> Path:
    """Create the index folder, or check that an existing one was made with the same ``settings``."""
    folder = Path(folder)
    known = read_manifest(folder)
    wanted = {"format": FORMAT, "version": VERSION, **{k: settings[k] for k in SETTINGS_KEYS}}
    if known is not None:
        differ = [k for k in SETTINGS_KEYS if known[k] != wanted[k]]
        if differ:
            raise IndexError_(f"{folder}: this index was made with {differ[0]} {known[differ[0]]!r}, "
                              f"not {wanted[differ[0]]!r}; choose another --out folder")
        return folder
    (folder / SHARDS).mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{MANIFEST}.{uuid.uuid4().hex}"
    tmp.write_text(json.dumps(wanted, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return folder


def shard_name(photos: Iterable[tuple[str, int, int]]) -> str:
    """The name of the shard of these photos (path, size, mtime): the same batch, the same name."""
    digest = hashlib.sha256()
    for path, size, mtime in sorted(photos):
        digest.update(f"{path}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
    return f"part-{digest.hexdigest()[:32]}.parquet"


def write_shard(folder: str | os.PathLike, name: str, rows: list[dict]) -> Path:
    """Write one shard atomically (temporary file, then rename)."""
    pa, pq = _pyarrow()
    target = Path(folder) / SHARDS / name
    table = pa.Table.from_pylist(rows, schema=schema())
    tmp = target.with_name(f".{name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, target)
    return target


def shard_paths(folder: str | os.PathLike) -> list[Path]:
    return sorted((Path(folder) / SHARDS).glob("part-*.parquet"))


def done_photos(folder: str | os.PathLike) -> set[tuple[str, int, int]]:
    """Photos already in the index, as (path, size, mtime_ns): every version indexed."""
    _, pq = _pyarrow()
    done: set[tuple[str, int, int]] = set()
    for shard in shard_paths(folder):
        table = _read(pq, shard, ["path", "size", "mtime_ns"])
        done.update(zip(*(table.column(c).to_pylist() for c in ("path", "size", "mtime_ns"))))
    return done


def _read(pq, shard: Path, columns: list[str] | None = None):
    try:
        return pq.read_table(shard, columns=columns, schema=schema())
    except Exception as exc:  # noqa: BLE001 - any damage is one clear error naming the shard
        raise IndexError_(f"{shard}: damaged index shard ({type(exc).__name__}: {exc})") from None


def read_photos(folder: str | os.PathLike, current=None) -> Iterator[dict]:
    """Every photo of the index once, sorted by path: dict with path, size, mtime_ns, width, height,
    error (None or text) and faces (list of dicts: box, score, sharpness, landmarks (5, 2),
    embedding, thumbnail), in the order the worker found them.

    A photo indexed more than once (it changed between two runs) is taken from the shard whose
    (size, mtime_ns) ``current(path)`` gives (the file as it is now), else from the first shard.
    """
    _, pq = _pyarrow()
    rows: dict[str, dict[Path, list[dict]]] = {}
    for shard in shard_paths(folder):
        for row in _read(pq, shard).to_pylist():
            rows.setdefault(row["path"], {}).setdefault(shard, []).append(row)
    for path in sorted(rows):
        versions = rows[path]
        now = current(path) if current is not None and len(versions) > 1 else None
        chosen = [v for v in versions.values() if (v[0]["size"], v[0]["mtime_ns"]) == now]
        group = sorted((chosen or list(versions.values()))[0], key=lambda r: r["face"])
        first = group[0]
        faces = [{"box": (r["left"], r["top"], r["right"], r["bottom"]), "score": r["score"],
                  "sharpness": r["sharpness"], "thumbnail": r["thumbnail"],
                  "landmarks": np.asarray(r["landmarks"], np.float32).reshape(5, 2),
                  "embedding": np.asarray(r["embedding"], np.float32)} for r in group if r["face"] >= 0]
        yield {"path": path, "size": first["size"], "mtime_ns": first["mtime_ns"], "width": first["width"],
               "height": first["height"], "error": first["error"], "faces": faces}
