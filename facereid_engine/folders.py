"""The one folder walker: the image files under a folder, each file once, with what could not be read.

Used by scans, folders of people (pair sets, training data) and ``facereid detect/embed DIR``.
"""
from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .images import SUPPORTED_EXTENSIONS


@dataclass
class FoundImages:
    """``photos``: each image file once under its canonical path, sorted. ``aliases``: every other
    path of a found file -> its canonical path. ``problems``: (path, why) for what could not be
    entered or read (unreadable folders, dangling links, special files)."""

    photos: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)


def find_images(folder: str | os.PathLike) -> FoundImages:
    """The image files under ``folder`` (by extension; hidden files and folders skipped).

    Links to folders outside ``folder`` are followed (after the real tree, smallest path first),
    never a folder twice (symbolic-link loops); links to folders inside it are not (the folder is
    found under its own path). A file reached by several paths keeps the one reached without a link,
    else the smallest, whatever the walk order.
    """
    root = os.path.realpath(folder)
    inside = root.rstrip(os.sep) + os.sep
    found = FoundImages()
    paths: dict[tuple[int, int], list[tuple[bool, str]]] = {}
    walked: set[tuple[int, int]] = set()
    links: list[str] = []

    def walk(top: str, via_link: bool) -> None:
        stack = [top]
        while stack:
            current = stack.pop()
            try:
                st = os.stat(current)
                if (st.st_dev, st.st_ino) in walked:
                    continue
                walked.add((st.st_dev, st.st_ino))
                entries = sorted(os.scandir(current), key=lambda e: e.name)
            except OSError as exc:
                found.problems.append((current, f"cannot read the folder ({exc.strerror or exc})"))
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                _visit(entry, via_link, stack)

    def _visit(entry: os.DirEntry, via_link: bool, stack: list[str]) -> None:
        try:
            link = entry.is_symlink()
            if entry.is_dir():
                (heapq.heappush(links, entry.path) if link else stack.append(entry.path))
                return
            if os.path.splitext(entry.name)[1].lower() not in SUPPORTED_EXTENSIONS:
                return
            if not entry.is_file():
                why = "a dangling link" if link and not os.path.exists(entry.path) else "not a regular file"
                found.problems.append((entry.path, why))
                return
            st = entry.stat()
            paths.setdefault((st.st_dev, st.st_ino), []).append((via_link or link, entry.path))
        except OSError as exc:
            found.problems.append((entry.path, f"cannot be read ({exc.strerror or exc})"))

    walk(root, False)
    while links:
        link = heapq.heappop(links)
        real = os.path.realpath(link)
        if real != root and not real.startswith(inside):
            walk(link, True)
    for versions in paths.values():
        versions.sort()
        found.photos.append(versions[0][1])
        found.aliases.update({path: versions[0][1] for _, path in versions[1:]})
    found.photos.sort()
    return found


def still_there(paths: Iterable[str]) -> Iterator[tuple[str, os.stat_result]]:
    """``(path, stat)`` for each path that can still be stat'ed (a photo removed since the folder was
    listed is skipped; the next scan sees it missing)."""
    for path in paths:
        try:
            yield path, os.stat(path)
        except OSError:
            continue
