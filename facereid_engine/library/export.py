"""Export the albums to a folder: one sub-folder per person with links to (or copies of) the photos,
a CSV and a JSON manifest, and optionally XMP sidecars with MWG face regions (digiKam, Lightroom).

Nothing is ever overwritten: an existing file is left alone (and reported), manifests get a free
name. The photos themselves are only read.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import time
import unicodedata
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from ..errors import FaceReIDError
from ..progress import Progress, Work, run

MODES = ("link", "copy")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_FORBIDDEN = set('<>:"/\\|?*')
_MAX_NAME_BYTES = 120


class ExportError(FaceReIDError):
    """The export folder cannot be used."""


@dataclass
class ExportResult:
    folder: str
    mode: str
    people: int = 0
    written: int = 0                 # links or copies made
    copied_instead: int = 0          # links impossible there, copied
    already: int = 0                 # already exported before (same photo)
    skipped: list[str] = field(default_factory=list)   # existing files of something else, left alone
    manifests: list[str] = field(default_factory=list)
    sidecars: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        text = (f"Exported {self.people} people to {self.folder}: {self.written} photos "
                f"{'linked' if self.mode == 'link' else 'copied'}")
        if self.copied_instead:
            text += f" ({self.copied_instead} copied: links impossible there)"
        if self.already:
            text += f", {self.already} already there"
        if self.skipped:
            text += f", {len(self.skipped)} names taken by other files (left alone)"
        return text + "."


def safe_name(name: str, fallback: str) -> str:
    """A folder name from a person's name: no separators, no traversal, no reserved or hidden names."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join("_" if (c in _FORBIDDEN or ord(c) < 32 or c == "\x7f") else c for c in text)
    text = " ".join(text.split()).strip(" .")
    while len(text.encode("utf-8")) > _MAX_NAME_BYTES:
        text = text[:-1].rstrip(" .")
    if not text.strip("_"):
        text = fallback
    if text.split(".")[0].upper() in _RESERVED:
        text = "_" + text
    return text


def _person_folders(people) -> dict[int, str]:
    """Folder name of each person; equal names get the person's id added, so names are stable."""
    from .types import unnamed_label
    base = {p.id: safe_name(p.name or "", unnamed_label(p.id)) for p in people}
    counts: dict[str, int] = {}
    for name in base.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    return {pid: (f"{name} ({pid})" if counts[name.casefold()] > 1 else name) for pid, name in base.items()}


def _file_names(paths: list[str]) -> dict[str, str]:
    """File name of each photo inside one folder: its own name, with a hash of its path when two clash."""
    counts: dict[str, int] = {}
    for p in paths:
        counts[os.path.basename(p).casefold()] = counts.get(os.path.basename(p).casefold(), 0) + 1
    out = {}
    for p in paths:
        name = os.path.basename(p)
        if counts[name.casefold()] > 1:
            stem, ext = os.path.splitext(name)
            name = f"{stem}-{hashlib.sha1(p.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}{ext}"
        out[p] = name
    return out


def _same_target(target: str, photo: str) -> bool:
    try:
        if os.path.islink(target):
            return os.path.realpath(target) == os.path.realpath(photo)
        return os.path.samefile(target, photo) or (
            os.path.getsize(target) == os.path.getsize(photo) and _digest(target) == _digest(photo))
    except OSError:
        return False


def _digest(path: str) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _place(photo: str, target: str, mode: str) -> str:
    """Link or copy ``photo`` to ``target`` without ever replacing a file: 'link', 'copy' or 'exists'."""
    if mode == "link":
        try:
            os.symlink(photo, target)
            return "link"
        except FileExistsError:
            return "exists"
        except (OSError, NotImplementedError):
            pass  # no links on this file system or for this user: copy instead
    try:
        with open(photo, "rb") as src, open(target, "xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except FileExistsError:
        return "exists"
    shutil.copystat(photo, target)
    return "copy"


def _free_name(folder: str, stem: str, ext: str) -> str:
    path, n = os.path.join(folder, stem + ext), 1
    while os.path.lexists(path):
        path, n = os.path.join(folder, f"{stem}-{n}{ext}"), n + 1
    return path


def _write_new(path: str, text: str) -> None:
    with open(path, "x", encoding="utf-8", newline="") as f:
        f.write(text)


def export_work(library, destination: str | os.PathLike, *, mode: str = "link", root: str | os.PathLike | None = None,
                people: list[int] | None = None, xmp: bool = False) -> Work[ExportResult]:
    """Generator: export the albums (all people, or ``people``; photos under ``root`` only if given)."""
    if mode not in MODES:
        raise ExportError(f"export mode {mode!r}: choose {' or '.join(MODES)}")
    start = time.perf_counter()
    dest = os.path.abspath(destination)
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise ExportError(f"{dest}: exists and is not a folder")
    real = os.path.realpath(dest)
    for root in library.roots():
        inside = os.path.realpath(root)
        if real == inside or real.startswith(inside.rstrip(os.sep) + os.sep):
            raise ExportError(f"{dest}: inside the photo folder {root}, which FaceReID never writes to; "
                              f"choose a folder outside it")
    everyone = [p for p in library.people() if p.face_count]
    chosen = [p for p in everyone if people is None or p.id in set(people)]
    folders = _person_folders(everyone)
    result = ExportResult(folder=dest, mode=mode, people=len(chosen))
    faces_by_photo: dict[str, list] = {}
    albums = []
    for person in chosen:
        faces = library.faces(person.id, root=root)
        albums.append((person, faces))
        for f in faces:
            faces_by_photo.setdefault(f.path, []).append((person, f))
    total = sum(len({f.path for f in faces}) for _, faces in albums)
    os.makedirs(dest, exist_ok=True)
    rows, done = [], 0
    for person, faces in albums:
        folder = os.path.join(dest, folders[person.id])
        os.makedirs(folder, exist_ok=True)
        names = _file_names(sorted({f.path for f in faces}))
        for f in faces:
            rows.append({"person_id": person.id, "person": person.display_name, "photo": f.path,
                         "file": os.path.join(folders[person.id], names[f.path]), "left": f.box[0], "top": f.box[1],
                         "right": f.box[2], "bottom": f.box[3], "confirmed": int(f.confirmed)})
        for photo, name in names.items():
            target = os.path.join(folder, name)
            outcome = _place(photo, target, mode)
            if outcome == "exists":
                if _same_target(target, photo):
                    result.already += 1
                else:
                    result.skipped.append(target)
            else:
                result.written += 1
                result.copied_instead += outcome == "copy" and mode == "link"
            if xmp and outcome != "exists":
                result.sidecars += _sidecar(target, faces_by_photo[photo], folders)
            done += 1
            yield Progress(done, total, target)
    _manifests(dest, rows, result)
    result.seconds = time.perf_counter() - start
    return result


def export_albums(library, destination: str | os.PathLike, **options) -> ExportResult:
    """:func:`export_work` run to its end."""
    return run(export_work(library, destination, **options))


def _manifests(dest: str, rows: list[dict], result: ExportResult) -> None:
    columns = ["person_id", "person", "photo", "file", "left", "top", "right", "bottom", "confirmed"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    csv_path = _free_name(dest, "albums", ".csv")
    _write_new(csv_path, out.getvalue())
    json_path = _free_name(dest, "albums", ".json")
    people: dict[int, dict] = {}
    for r in rows:
        entry = people.setdefault(r["person_id"], {"id": r["person_id"], "name": r["person"], "faces": []})
        entry["faces"].append({"photo": r["photo"], "file": r["file"],
                               "box": [r["left"], r["top"], r["right"], r["bottom"]], "confirmed": bool(r["confirmed"])})
    _write_new(json_path, json.dumps({"people": list(people.values())}, indent=1, ensure_ascii=False) + "\n")
    result.manifests = [csv_path, json_path]


def _sidecar(target: str, faces: list, folders: dict[int, str]) -> int:
    """An XMP sidecar beside the exported file with an MWG face region per person in the photo."""
    from PIL import Image
    try:
        with Image.open(target) as im:
            width, height = im.size
            if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):   # boxes are in the upright photo
                width, height = height, width
    except OSError:
        return 0
    regions = []
    for person, f in faces:
        l, t, r, b = f.box
        w, h = (r - l + 1) / width, (b - t + 1) / height
        x, y = (l + (r - l + 1) / 2) / width, (t + (b - t + 1) / 2) / height
        regions.append(
            f'<rdf:li rdf:parseType="Resource"><mwg-rs:Name>{_text(person.display_name)}</mwg-rs:Name>'
            f'<mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area stArea:x="{x:.6f}" stArea:y="{y:.6f}" '
            f'stArea:w="{w:.6f}" stArea:h="{h:.6f}" stArea:unit="normalized"/></rdf:li>')
    xml = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
        'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#" '
        'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">'
        f'<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="{width}" '
        f'stDim:h="{height}" stDim:unit="pixel"/><mwg-rs:RegionList><rdf:Bag>{"".join(regions)}</rdf:Bag>'
        '</mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>\n')
    try:
        _write_new(target + ".xmp", xml)
    except FileExistsError:
        return 0
    return 1


def _text(value: str) -> str:
    return quoteattr(value)[1:-1]
