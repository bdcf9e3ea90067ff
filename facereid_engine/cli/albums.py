"""``facereid albums``: scan a photo folder into the library and group its faces into people.

    facereid albums PHOTO_DIR [--library FILE] [--export DIR] [--json]   scan, group, summarise
    facereid albums --list | --suggest [--json]                           the library's people
    facereid albums --rename PERSON NAME | --merge PERSON PERSON... [--into PERSON] | --undo
    facereid albums [PHOTO_DIR] --retry-failed                            read failed photos again
    facereid albums --import-index DIR                                    store an index, group

PERSON is an id or a (unique) name.
"""
from __future__ import annotations

import argparse
import os
import sys
import unicodedata

from ..defaults import DEFAULT_DETECTOR, DEFAULT_ENCODER, DETECTORS
from ..library import Library, LibraryError
from . import dumps
from .progressbar import drive


def register(subparsers) -> None:
    p = subparsers.add_parser("albums", help="group the faces of a photo folder into people",
                              description="Scan PHOTO_DIR (recursively, incrementally) into the library, group "
                              "the faces into people and print a summary; or list, rename and merge people.")
    p.add_argument("photo_dir", nargs="?", metavar="PHOTO_DIR", help="folder of photos to scan (read only)")
    p.add_argument("--library", metavar="FILE", help="library file (default: in the user data folder)")
    p.add_argument("--export", metavar="DIR", help="export the albums to DIR (one folder per person)")
    p.add_argument("--copy", action="store_true", help="with --export: copy the photos instead of linking")
    p.add_argument("--xmp", action="store_true", help="with --export: write XMP sidecars with face regions")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--detail", choices=("fast", "normal", "small"), default="normal",
                   help="detection detail: 'small' also finds small faces in large photos (slower)")
    p.add_argument("--encoder", default=None,
                   help="encoder to group by (default: the library's, for a new library "
                        f"{DEFAULT_ENCODER}); another one re-embeds the known faces and regroups")
    p.add_argument("--detector", choices=DETECTORS, default=None,
                   help=f"face detector for new photos (default {DEFAULT_DETECTOR}): mmod is dlib's CNN, "
                        "yunet OpenCV Zoo's YuNet (faster; finds profiles)")
    p.add_argument("--regroup", action="store_true", help="regroup every face, even in a large library")
    p.add_argument("--retry-failed", action="store_true",
                   help="read again the photos that could not be read before (of PHOTO_DIR, else of every folder)")
    p.add_argument("--import-index", metavar="DIR",
                   help="bring in an index made by 'facereid index' (instead of scanning PHOTO_DIR), then group")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    actions = p.add_mutually_exclusive_group()
    actions.add_argument("--list", action="store_true", help="list the people of the library")
    actions.add_argument("--suggest", action="store_true", help="list people who may be one person")
    actions.add_argument("--rename", nargs=2, metavar=("PERSON", "NAME"), help="name a person ('' removes it)")
    actions.add_argument("--merge", nargs="+", metavar="PERSON", help="merge two or more people")
    actions.add_argument("--undo", action="store_true", help="undo the last correction")
    p.add_argument("--into", metavar="PERSON", help="with --merge: the person to keep")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Listing never writes to the library file (nor to a file that is not a library).
    readonly = bool(args.list or args.suggest)
    with Library(args.library, readonly=readonly) as library:
        if args.rename:
            person = _person(library, args.rename[0])
            library.rename(person, args.rename[1])
            return _say(args, {"renamed": person, "name": args.rename[1] or None})
        if args.merge:
            if len(args.merge) < 2:
                raise LibraryError("--merge needs at least two people")
            into = _person(library, args.into) if args.into else None
            kept = library.merge([_person(library, p) for p in args.merge], into=into)
            return _say(args, {"merged_into": kept})
        if args.undo:
            undone = library.undo()
            if undone is None and not args.json:
                print("Nothing to undo.")
                return 0
            return _say(args, {"undone": undone})
        if args.suggest:
            return _say(args, {"suggestions": [{"person_a": s.person_a, "person_b": s.person_b,
                                                "distance": round(s.distance, 4)} for s in library.suggestions(None)]})
        if args.list:
            return _list(library, args)
        if args.retry_failed and not args.photo_dir:
            _retry(library, args)
            return 0
        if args.import_index:
            if args.photo_dir:
                raise LibraryError("give PHOTO_DIR or --import-index DIR, not both")
            args.photo_dir = _import_index(library, args)
        if not args.photo_dir and not args.export:
            raise LibraryError("give PHOTO_DIR to scan, or one of --list, --suggest, --rename, --merge, --undo, --export")
        if args.photo_dir and not args.import_index:
            _scan(library, args)
        if args.export:
            _export(library, args)
        if args.photo_dir:
            _report(library, args)
    return 0


def _scan(library: Library, args) -> None:
    from ..library.scanning import DETAIL, ScanSettings
    max_side, upsample = DETAIL[args.detail]
    settings = ScanSettings(encoder=args.encoder or library.encoder, max_side=max_side, upsample=upsample,
                            face_detector=args.detector or DEFAULT_DETECTOR,
                            full_regroup=True if args.regroup else None, retry_errors=args.retry_failed)
    result = drive(library.scan_work(args.photo_dir, settings=settings), show=not args.no_progress)
    if not args.json:
        print(result.summary())


def _import_index(library: Library, args) -> str:
    """Store the index, group; returns the indexed photo folder (for the report)."""
    from ..library.index_import import import_index_work
    result = drive(import_index_work(library, args.import_index, full_regroup=True if args.regroup else None),
                   show=not args.no_progress)
    if not args.json:
        print(result.summary())
    return result.folder


def _retry(library: Library, args) -> None:
    from ..library.scanning import ScanSettings
    settings = ScanSettings(encoder=library.encoder, full_regroup=True if args.regroup else None)
    results = drive(library.retry_failed_work(settings), show=not args.no_progress)
    if args.json:
        _say(args, {"retried": [{"folder": r.folder, "read": r.retried, "still_failing": len(r.errors)}
                                for r in results]})
    elif not results:
        print("No photo failed: nothing to read again.")
    for result in results if not args.json else ():
        print(_printable(result.summary()))


def _export(library: Library, args) -> None:
    from ..library.export import export_work
    result = drive(export_work(library, args.export, mode="copy" if args.copy else "link",
                                   root=args.photo_dir, xmp=args.xmp), show=not args.no_progress)
    print(result.summary(), file=sys.stderr if args.json else sys.stdout)


def _face(face, root: str) -> dict:
    return {"photo": os.path.relpath(face.path, root), "box": [int(v) for v in face.box]}


def _report(library: Library, args) -> None:
    root = os.path.abspath(args.photo_dir)
    people = []
    for person in library.people():
        faces = library.faces(person.id, root=root)
        if faces:
            people.append((person, faces))
    unsorted = library.faces(unsorted=True, root=root)
    errors = library.errors(root)
    if args.json:
        out = {"people": [{"id": p.id, "name": p.name, "faces": [_face(f, root) for f in faces]} for p, faces in people],
               "unsorted": [_face(f, root) for f in unsorted],
               "errors": [{"photo": os.path.relpath(e.path, root), "error": e.error} for e in errors]}
        print(dumps(out, indent=1, ensure_ascii=False))
        return
    for person, faces in people:
        photos = len({f.path for f in faces})
        print(f"{person.id:>6}  {_printable(person.display_name)}: {len(faces)} faces in {photos} photos")
    print(f"unsorted: {len(unsorted)} faces")
    for e in errors:
        print(_printable(f"error: {os.path.relpath(e.path, root)}: {e.error}"))


def _list(library: Library, args) -> int:
    people = library.people()
    if args.json:
        return _say(args, {"people": [{"id": p.id, "name": p.name, "faces": p.face_count, "photos": p.photo_count,
                                       "confirmed": p.confirmed_count} for p in people]})
    for p in people:
        print(f"{p.id:>6}  {_printable(p.display_name)}: {p.face_count} faces in {p.photo_count} photos"
              + (f" ({p.confirmed_count} confirmed)" if p.confirmed_count else ""))
    print(f"unsorted: {library.counts()['unsorted']} faces")
    return 0


def _say(args, payload: dict) -> int:
    if args.json:
        print(dumps(payload, ensure_ascii=False))
    else:
        for key, value in payload.items():
            if isinstance(value, list):
                for item in value:
                    print(_printable("  ".join(f"{k}={v}" for k, v in item.items())))
            else:
                print(_printable(f"{key}: {value}"))
    return 0


def _printable(text: str) -> str:
    """``text`` for a terminal: control characters (newlines, escapes, bidi marks) written as escapes."""
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)


def _person(library: Library, text: str) -> int:
    """A person's id from an id or a unique name."""
    people = library.people()
    if text.strip().isdigit() and any(p.id == int(text) for p in people):
        return int(text)
    matches = [p.id for p in people if (p.name or "").casefold() == text.strip().casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise LibraryError(f"no person {text!r} in the library (give an id from --list, or a name)")
    raise LibraryError(f"{len(matches)} people are named {text!r}: give an id ({', '.join(map(str, matches))})")
