"""Small real training sets for the training tests: symlinks to LFW images of ten people, and a
View-1-format pairs file over them (the images are never copied)."""
from __future__ import annotations

import itertools
from pathlib import Path

from data_paths import LFW_IMAGES

# Ten people with four LFW images each (40 images: a few seconds to embed, then cached).
PEOPLE = ("Aaron_Peirsol", "Abdoulaye_Wade", "Abel_Pacheco", "Adam_Sandler", "Alec_Baldwin",
          "Alexander_Downer", "Amanda_Bynes", "Angelo_Reyes", "Art_Howe", "Barbara_Walters")
PER_PERSON = 4


def make_people_folder(root: Path, people=PEOPLE, per_person: int = PER_PERSON) -> Path:
    """``root/<name>/<name>_NNNN.jpg`` symlinks to the real LFW images; returns ``root``."""
    for name in people:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(1, per_person + 1):
            link = folder / f"{name}_{k:04d}.jpg"
            if not link.exists():
                link.symlink_to(LFW_IMAGES / name / f"{name}_{k:04d}.jpg")
    return root


def write_pairs_file(path: Path, people=PEOPLE, per_person: int = PER_PERSON) -> Path:
    """An LFW View-1 pairs file: every matched pair of the people, then as many mismatched pairs."""
    matched = [(n, a, b) for n in people for a, b in itertools.combinations(range(1, per_person + 1), 2)]
    cross = [(p, q) for p, q in itertools.combinations(people, 2)]
    mismatched = [(p, 1 + i % per_person, q, 1 + (i * 3 + 1) % per_person)
                  for i, (p, q) in enumerate(itertools.islice(itertools.cycle(cross), len(matched)))]
    lines = [str(len(matched))]
    lines += [f"{n}\t{a}\t{b}" for n, a, b in matched]
    lines += [f"{p}\t{a}\t{q}\t{b}" for p, a, q, b in mismatched]
    path.write_text("\n".join(lines) + "\n")
    return path
