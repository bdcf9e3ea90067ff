"""Export the albums to a folder: one sub-folder per person with links to (or copies of) the photos,
a CSV and a JSON manifest, and optionally XMP sidecars with MWG face regions (digiKam, Lightroom).

Nothing is ever overwritten: an existing file is left alone (and reported), manifests get a free
name. The photos themselves are only read, and nothing is written inside a scanned photo folder:
every folder written to is resolved and checked against every root of the library, and a person's
folder that is a symbolic link is refused, never followed (files are made inside folders opened
with ``O_NOFOLLOW``, relative to them). The manifests list what the export folder holds (written
now or before); what could not be written is reported apart, per file or per person.
"""
from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import stat
import time
import unicodedata
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from ..errors import FaceReIDError
from ..progress import Progress, Work, run

MODES = ("link", "copy")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_FORBIDDEN = set('<>:"/\\|?*')
_MAX_NAME_BYTES = 120       # a person's folder
_MAX_FILE_BYTES = 240       # an exported file: room for ".xmp" (and "-n") within the usual 255
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


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
    failed: list[tuple[str, str]] = field(default_factory=list)   # (path, why) not written: a file or a person
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
        if self.failed:
            text += f"; {len(self.failed)} could not be written (first: {self.failed[0][0]}: {self.failed[0][1]})"
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


def person_folders(people) -> dict[int, str]:
    """Folder name of each person; equal names get the person's id added, so names are stable."""
    from .types import unnamed_label
    base = {p.id: safe_name(p.name or "", unnamed_label(p.id)) for p in people}
    counts: dict[str, int] = {}
    for name in base.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    return {pid: (f"{name} ({pid})" if counts[name.casefold()] > 1 else name) for pid, name in base.items()}


def _file_names(paths: list[str]) -> dict[str, str]:
    """File name of each photo inside one folder: its own name, with a hash of its path when two
    clash or when the name is too long for a file system (the stem is cut)."""
    counts: dict[str, int] = {}
    for p in paths:
        counts[os.path.basename(p).casefold()] = counts.get(os.path.basename(p).casefold(), 0) + 1
    out = {}
    for p in paths:
        name = os.path.basename(p)
        stem, ext = os.path.splitext(name)
        mark = hashlib.sha1(p.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        if counts[name.casefold()] > 1 or _bytes(name) > _MAX_FILE_BYTES:
            room = _MAX_FILE_BYTES - _bytes(ext) - len(mark) - 1
            while _bytes(stem) > room:
                stem = stem[:-1]
            name = f"{stem}-{mark}{ext}"
        out[p] = name
    return out


def _bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _inside(path: str, roots: list[str]) -> str | None:
    """The photo folder (resolved) that holds ``path`` (resolved), if any."""
    for root in roots:
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            return root
    return None


def _open_dir(name: str, dir_fd: int, path: str) -> int:
    """Open (making it if needed) the folder ``name`` of ``dir_fd`` without following a link."""
    try:
        os.mkdir(name, dir_fd=dir_fd)
    except FileExistsError:
        pass
    try:
        return os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=dir_fd)
    except OSError as exc:
        if os.path.islink(path):
            raise ExportError(f"{path}: a symbolic link; FaceReID never follows links in an export folder "
                              f"(it could lead into a photo folder): remove it or choose another folder") from exc
        raise


def _same_target(dir_fd: int, name: str, photo: str) -> bool:
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISLNK(st.st_mode):
            return os.path.realpath(os.readlink(name, dir_fd=dir_fd)) == os.path.realpath(photo)
        other = os.stat(photo)
        if (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino):
            return True
        if st.st_size != other.st_size:
            return False
        fd = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=dir_fd)
        with open(fd, "rb") as f:
            mine = _digest(f)
        with open(photo, "rb") as f:
            return mine == _digest(f)
    except OSError:
        return False


def _digest(f) -> str:
    h = hashlib.sha1()
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
    return h.hexdigest()


def _create(name: str, dir_fd: int):
    """A new file ``name`` in ``dir_fd`` (never an existing one, never through a link), open for writing."""
    return open(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644, dir_fd=dir_fd), "wb")


def _place(photo: str, name: str, dir_fd: int, mode: str) -> str:
    """Link or copy ``photo`` to ``name`` in ``dir_fd`` without ever replacing a file: 'link', 'copy' or 'exists'."""
    if mode == "link":
        try:
            os.symlink(photo, name, dir_fd=dir_fd)
            return "link"
        except FileExistsError:
            return "exists"
        except OSError as exc:
            if exc.errno in (errno.ENAMETOOLONG, errno.EACCES, errno.EROFS, errno.ENOSPC):
                raise
            # no links on this file system or for this user: copy instead
    try:
        with open(photo, "rb") as src:
            info = os.fstat(src.fileno())
            dst = _create(name, dir_fd)
            try:
                with dst:
                    while block := src.read(1 << 20):
                        dst.write(block)
                    os.fchmod(dst.fileno(), stat.S_IMODE(info.st_mode))
                    os.utime(dst.fileno(), ns=(info.st_atime_ns, info.st_mtime_ns))
            except BaseException:
                os.unlink(name, dir_fd=dir_fd)
                raise
    except FileExistsError:
        return "exists"
    return "copy"


def _write_new(dir_fd: int, stem: str, ext: str, text: str) -> str:
    """Write ``text`` to a free name ``stem[-n]ext`` in ``dir_fd``; returns the name used."""
    n = 0
    while True:
        name = f"{stem}{f'-{n}' if n else ''}{ext}"
        try:
            with _create(name, dir_fd) as f:
                f.write(text.encode("utf-8"))
            return name
        except FileExistsError:
            n += 1


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
    roots = sorted({os.path.realpath(r) for r in library.roots()})
    if _inside(real, roots):
        raise ExportError(f"{dest}: inside the photo folder {_inside(real, roots)}, which FaceReID never writes "
                          f"to; choose a folder outside it")
    everyone = [p for p in library.people() if p.face_count]
    chosen = [p for p in everyone if people is None or p.id in set(people)]
    folders = person_folders(everyone)
    for person in chosen:            # before anything is written: no person's folder may lead into photos
        path = os.path.join(real, folders[person.id])
        if os.path.islink(path):
            raise ExportError(f"{path}: a symbolic link; FaceReID never follows links in an export folder "
                              f"(it could lead into a photo folder): remove it or choose another folder")
        if _inside(path, roots):
            raise ExportError(f"{path}: {person.display_name}'s folder would be the photo folder "
                              f"{_inside(path, roots)} or inside it, which FaceReID never writes to; choose "
                              f"another export folder (or rename the person)")
    result = ExportResult(folder=dest, mode=mode, people=len(chosen))
    albums = [(person, library.faces(person.id, root=root)) for person in chosen]
    dest_fd = _open_destination(dest, real)
    rows: list[dict] = []
    try:
        yield from _export_people(albums, folders, dest_fd, real, mode, xmp, rows, result)
    except BaseException:
        try:
            _manifests(dest_fd, real, rows, result)
        except OSError:
            pass
        raise
    else:
        try:
            _manifests(dest_fd, real, rows, result)
        except OSError as exc:
            raise ExportError(f"{dest}: cannot write the manifest ({_why(exc)})") from exc
    finally:
        os.close(dest_fd)
    result.seconds = time.perf_counter() - start
    return result


def _open_destination(dest: str, real: str) -> int:
    """The export folder, made if needed and opened; refused at once when nothing can be written there."""
    try:
        os.makedirs(real, exist_ok=True)
        fd = os.open(real, os.O_RDONLY | _DIRECTORY)
    except OSError as exc:
        raise ExportError(f"{dest}: cannot make or open the export folder ({_why(exc)}); choose another "
                          f"folder") from exc
    probe = f".facereid-probe-{os.getpid()}"
    try:
        os.mkdir(probe, dir_fd=fd)
        os.rmdir(probe, dir_fd=fd)
    except OSError as exc:
        os.close(fd)
        raise ExportError(f"{dest}: cannot write in the export folder ({_why(exc)}); choose another "
                          f"folder") from exc
    return fd


def _export_people(albums, folders: dict[int, str], dest_fd: int, real: str, mode: str, xmp: bool,
                   rows: list[dict], result: ExportResult):
    faces_by_photo: dict[str, list] = {}
    for person, faces in albums:
        for f in faces:
            faces_by_photo.setdefault(f.path, []).append((person, f))
    total = sum(len({f.path for f in faces}) for _, faces in albums)
    done = 0
    for person, faces in albums:
        names = _file_names(sorted({f.path for f in faces}))
        folder = os.path.join(real, folders[person.id])
        try:
            folder_fd = _open_dir(folders[person.id], dest_fd, folder)
        except OSError as exc:            # this person only; the others go on
            result.failed.append((folder, _why(exc)))
            done += len(names)
            yield Progress(done, total, folder)
            continue
        try:
            for photo, name in names.items():
                target = os.path.join(folder, name)
                try:
                    outcome = _place(photo, name, folder_fd, mode)
                except OSError as exc:
                    result.failed.append((target, _why(exc)))
                    outcome = "failed"
                if outcome == "exists" and not _same_target(folder_fd, name, photo):
                    result.skipped.append(target)
                elif outcome != "failed":
                    result.already += outcome == "exists"
                    result.written += outcome != "exists"
                    result.copied_instead += outcome == "copy" and mode == "link"
                    rows.extend({"person_id": person.id, "person": person.display_name, "photo": f.path,
                                 "file": os.path.join(folders[person.id], name), "left": f.box[0], "top": f.box[1],
                                 "right": f.box[2], "bottom": f.box[3], "confirmed": int(f.confirmed)}
                                for f in faces if f.path == photo)
                    if xmp and outcome != "exists":
                        try:
                            result.sidecars += _sidecar(folder_fd, name, faces_by_photo[photo])
                        except OSError as exc:
                            result.failed.append((target + ".xmp", _why(exc)))
                done += 1
                yield Progress(done, total, target)
        finally:
            os.close(folder_fd)


def export_albums(library, destination: str | os.PathLike, **options) -> ExportResult:
    """:func:`export_work` run to its end."""
    return run(export_work(library, destination, **options))


def _manifests(dest_fd: int, real: str, rows: list[dict], result: ExportResult) -> None:
    """albums.csv and albums.json (free names): the files the export folder holds for each face;
    the JSON also lists what was left out, and why."""
    columns = ["person_id", "person", "photo", "file", "left", "top", "right", "bottom", "confirmed"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    people: dict[int, dict] = {}
    for r in rows:
        entry = people.setdefault(r["person_id"], {"id": r["person_id"], "name": r["person"], "faces": []})
        entry["faces"].append({"photo": r["photo"], "file": r["file"],
                               "box": [r["left"], r["top"], r["right"], r["bottom"]], "confirmed": bool(r["confirmed"])})
    left_out = [{"path": p, "why": "the name is taken by another file (left alone)"} for p in result.skipped]
    left_out += [{"path": p, "why": why} for p, why in result.failed]
    text = json.dumps({"people": list(people.values()), "not_written": left_out}, indent=1, ensure_ascii=False)
    csv_name = _write_new(dest_fd, "albums", ".csv", out.getvalue())
    json_name = _write_new(dest_fd, "albums", ".json", text + "\n")
    result.manifests = [os.path.join(real, csv_name), os.path.join(real, json_name)]


def _sidecar(dir_fd: int, name: str, faces: list) -> int:
    """An XMP sidecar beside the exported file with an MWG face region per person in the photo."""
    from PIL import Image
    try:
        with open(os.open(name, os.O_RDONLY, dir_fd=dir_fd), "rb") as f, Image.open(f) as im:
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
        with _create(name + ".xmp", dir_fd) as f:
            f.write(xml.encode("utf-8"))
    except FileExistsError:
        return 0
    return 1


def _text(value: str) -> str:
    return quoteattr(value)[1:-1]
