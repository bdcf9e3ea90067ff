"""Pair sets: LFW's own pairs files (real counts, folds), malformed copies, pairs from a folder of people."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from data_paths import LFW, LFW_IMAGES, lfw_image
from facereid_engine.errors import FaceReIDError
from facereid_engine.evaluation.pairsets import PairSetError, identity_pairs, read_pairs_file


@pytest.fixture(scope="module")
def view2():
    return read_pairs_file(LFW / "pairs.txt", LFW_IMAGES)


def test_pairs_txt_has_ten_folds_of_300_plus_300(view2):
    assert view2.n_folds == 10 and view2.n_pairs == 6000 and view2.kind == "lfw-pairs"
    for f in range(10):
        in_fold = view2.fold == f
        assert np.count_nonzero(in_fold & view2.same) == 300
        assert np.count_nonzero(in_fold & ~view2.same) == 300
    # each fold is 300 matched lines then 300 mismatched lines, in file order
    assert view2.lines[0] == 2 and view2.lines[-1] == 6001
    assert list(view2.same[:300]) == [True] * 300 and list(view2.same[300:600]) == [False] * 300
    assert view2.fold[599] == 0 and view2.fold[600] == 1
    assert len(view2.images) == 7701  # distinct images used by the 6,000 pairs


def test_pairs_txt_first_lines_resolve_to_the_right_files(view2):
    # line 2: "Abel_Pacheco 1 4"; line 302: "Abdel_Madi_Shabneh 1 Dean_Barker 1"
    assert view2.images[view2.left[0]] == lfw_image("Abel_Pacheco", 1)
    assert view2.images[view2.right[0]] == lfw_image("Abel_Pacheco", 4)
    assert view2.images[view2.left[300]] == lfw_image("Abdel_Madi_Shabneh", 1)
    assert view2.images[view2.right[300]] == lfw_image("Dean_Barker", 1)
    assert view2.lines[300] == 302 and not view2.same[300]


@pytest.mark.parametrize("name, matched, images", [("pairsDevTrain.txt", 1100, 3443), ("pairsDevTest.txt", 500, 1549)])
def test_view1_files_are_one_fold(name, matched, images):
    pairs = read_pairs_file(LFW / name)  # images/ next to the file by default
    assert pairs.n_folds == 1 and pairs.n_matched == matched and pairs.n_mismatched == matched
    assert set(pairs.fold.tolist()) == {0}
    assert len(pairs.images) == images  # as LFW's own pairsDev*-images.txt lists
    assert pairs.describe()["n_pairs"] == 2 * matched


def _copy(tmp_path: Path, edit, name="pairsDevTest.txt") -> Path:
    rows = (LFW / name).read_text().splitlines()
    edit(rows)
    path = tmp_path / f"bad_{name}"
    path.write_text("\n".join(rows) + "\n")
    return path


def _error(path: Path) -> PairSetError:
    with pytest.raises(PairSetError) as info:
        read_pairs_file(path, LFW_IMAGES)
    assert isinstance(info.value, FaceReIDError)
    return info.value


def _set(rows, i, text):
    rows[i] = text


@pytest.mark.parametrize("edit, line, words", [
    (lambda r: _set(r, 0, "10"), 12, "expected a mismatched pair 'name1 n1 name2 n2' (fold 1, mismatched pair 1 of 10)"),
    (lambda r: _set(r, 0, "501"), 502, "expected a matched pair 'name n1 n2' (fold 1, matched pair 501 of 501)"),
    (lambda r: _set(r, 0, "2 250"), 252, "(fold 1, mismatched pair 1 of 250), found 3 fields"),
    (lambda r: r.append("Zico 1 2"), 1002, "unexpected line after the 1000 pairs"),
    (lambda r: r.pop(600), 1000, "ends after 999 pairs"),                   # one line short
    (lambda r: _set(r, 4, "Abdullah_Gul 13 14 15"), 5, "expected a matched pair"),
    (lambda r: _set(r, 700, "Zico 1 2"), 701, "expected a mismatched pair"),
    (lambda r: _set(r, 2, "Abdullah_Gul 13 x"), 3, "whole number"),
    (lambda r: _set(r, 2, "Abdullah_Gul 0 14"), 3, "at least 1"),
    (lambda r: _set(r, 3, "No_Such_Person 1 2"), 4, "unknown name 'No_Such_Person'"),
    (lambda r: _set(r, 3, "Abdullah_Gul 13 999"), 4, "missing image"),
    (lambda r: _set(r, 3, "Abdullah_Gul 13 13"), 4, "with itself"),
    (lambda r: _set(r, 600, "Zico 1 Zico 2"), 601, "names one person twice"),
    (lambda r: _set(r, 0, "ten"), 1, "whole number"),
    (lambda r: _set(r, 0, "1 2 3"), 1, "first line must be"),
])
def test_malformed_copies_name_the_file_and_line(tmp_path, edit, line, words):
    path = _copy(tmp_path, edit)
    err = _error(path)
    assert err.path == str(path) and err.line == line
    assert words in str(err) and str(err).startswith(f"{path}:{line}: ")


def test_missing_file_empty_file_and_missing_image_folder(tmp_path):
    assert _error(tmp_path / "nope.txt").line is None
    (tmp_path / "empty.txt").write_text("")
    assert _error(tmp_path / "empty.txt").line == 1
    with pytest.raises(PairSetError, match="image folder .* does not exist"):
        read_pairs_file(LFW / "pairsDevTest.txt", tmp_path / "no-images")


def test_any_image_root_and_other_extensions(tmp_path):
    root = tmp_path / "imgs"
    for name, numbers in (("Zico", (1, 2, 3)), ("Sok_An", (1,))):
        (root / name).mkdir(parents=True)
        for n in numbers:
            os.symlink(lfw_image(name, n), root / name / f"{name}_{n:04d}.jpg")
    os.rename(root / "Zico" / "Zico_0003.jpg", root / "Zico" / "Zico_0003.png")
    pairs_file = tmp_path / "mine.txt"
    pairs_file.write_text("2\nZico\t1\t2\nZico 2 3\nZico 1 Sok_An 1\n\nZico 3 Sok_An 1\n")
    pairs = read_pairs_file(pairs_file, root)
    assert pairs.n_pairs == 4 and list(pairs.same) == [True, True, False, False]
    assert list(pairs.lines) == [2, 3, 4, 6]  # the blank line is skipped but counted
    assert pairs.images[pairs.right[1]] == root / "Zico" / "Zico_0003.png"
    assert len(pairs.images) == 4


# ------------------------------------------------------------------------------------------------
# a folder of people (symlinks to real LFW images)
# ------------------------------------------------------------------------------------------------
PEOPLE = {  # name: images (1..n)
    "Aaron_Peirsol": 4, "Aaron_Sorkin": 2, "Abdel_Nasser_Assidi": 2, "Abdoulaye_Wade": 4, "Abdullah": 4,
    "Abdullah_al-Attiyah": 3, "Abdullatif_Sener": 2, "Abel_Pacheco": 4, "Adam_Sandler": 4, "Adam_Scott": 2,
    "Adel_Al-Jubeir": 3, "Ahmed_Chalabi": 5, "Ai_Sugiyama": 5, "Alan_Greenspan": 5,
    "AJ_Cook": 1, "AJ_Lamas": 1, "Aaron_Eckhart": 1, "Aaron_Guiel": 1, "Abba_Eban": 1,
}


@pytest.fixture(scope="module")
def people_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("people")
    for name, count in PEOPLE.items():
        (root / name).mkdir()
        for n in range(1, count + 1):
            os.symlink(lfw_image(name, n), root / name / f"{n}.jpg")
    (root / "Aaron_Peirsol" / "notes.txt").write_text("not an image")
    (root / "Empty_Person").mkdir()
    return root


def _person(path: Path) -> str:
    return path.parent.name


def test_identity_pairs_are_balanced_seeded_and_folds_keep_people_apart(people_folder):
    pairs = identity_pairs(people_folder, n_folds=4, pairs_per_fold=3, seed=7)
    assert pairs.kind == "identities" and pairs.n_folds == 4 and pairs.seed == 7
    person_folds: dict[str, set[int]] = {}
    seen = set()
    for a, b, same, fold in zip(pairs.left, pairs.right, pairs.same, pairs.fold):
        pa, pb = pairs.images[a], pairs.images[b]
        assert pa != pb and pa.suffix == ".jpg"
        assert (_person(pa) == _person(pb)) == bool(same)
        key = frozenset((pa, pb))
        assert key not in seen
        seen.add(key)
        for p in (pa, pb):
            person_folds.setdefault(_person(p), set()).add(int(fold))
    assert all(len(f) == 1 for f in person_folds.values())  # nobody in two folds
    for f in range(4):
        in_fold = pairs.fold == f
        assert np.count_nonzero(in_fold & pairs.same) == np.count_nonzero(in_fold & ~pairs.same) > 0
    again = identity_pairs(people_folder, n_folds=4, pairs_per_fold=3, seed=7)
    assert again.images == pairs.images and np.array_equal(again.left, pairs.left) \
        and np.array_equal(again.right, pairs.right) and np.array_equal(again.fold, pairs.fold)
    other = identity_pairs(people_folder, n_folds=4, pairs_per_fold=3, seed=8)
    assert other.images != pairs.images or not np.array_equal(other.left, pairs.left)


def test_identity_pairs_take_what_the_people_allow(people_folder):
    # 14 people with 2+ images; 2 folds: the matched pairs available bound each fold
    pairs = identity_pairs(people_folder, n_folds=2, pairs_per_fold=1000, seed=0)
    total_matched = sum(n * (n - 1) // 2 for n in PEOPLE.values())
    assert pairs.n_matched == total_matched == pairs.n_mismatched
    assert all(p.is_absolute() for p in pairs.images)


def test_too_few_people_is_a_clear_error(people_folder, tmp_path):
    with pytest.raises(PairSetError, match=r"too few people for 15 fold\(s\): found 19 people with images, "
                                           r"14 of them with 2 or more"):
        identity_pairs(people_folder, n_folds=15)
    with pytest.raises(PairSetError, match="not found"):
        identity_pairs(tmp_path / "absent")
    (tmp_path / "solo" / "A").mkdir(parents=True)
    os.symlink(lfw_image("Zico", 1), tmp_path / "solo" / "A" / "1.jpg")
    with pytest.raises(PairSetError, match="too few people for 1 fold"):
        identity_pairs(tmp_path / "solo", n_folds=1)


def test_one_file_has_one_name_whatever_the_path_given(tmp_path):
    roundabout = LFW / ".." / "lfw" / "pairsDevTest.txt"
    pairs = read_pairs_file(roundabout, LFW_IMAGES / ".." / "images")
    assert pairs.source == LFW / "pairsDevTest.txt"
    assert pairs.images[0] == lfw_image("Abdullah_Gul", 13)
