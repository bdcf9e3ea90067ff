"""Properties over what users and files can throw at FaceReID (Hypothesis):

- any bytes that look more or less like a PNG, JPEG, GIF or TIFF give ``load_image`` either an upright
  (H, W, 3) uint8 array or an ImageLoadError, nothing else;
- any command line of ``verify``, ``detect``, ``embed``, ``eval`` and ``albums`` ends with exit code 0, 1
  or 2, never a traceback, standard JSON when asked for JSON, and leaves the photo folder byte-identical.

Bounded in time: a few hundred examples in all, no deadline (the machine may be busy).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from PIL import Image

from data_paths import lfw_image
from facereid_engine.cli import main
from facereid_engine.errors import ImageLoadError
from facereid_engine.images import load_image

# -- images -------------------------------------------------------------------------------------------
FORMATS = {"PNG": {}, "JPEG": {"quality": 80}, "GIF": {}, "TIFF": {}}
MODES = ["1", "L", "P", "RGB", "RGBA", "LA", "I;16", "I", "F", "CMYK"]
SAVABLE = {"PNG": {"1", "L", "P", "RGB", "RGBA", "LA", "I;16"}, "JPEG": {"L", "RGB", "CMYK"},
           "GIF": {"L", "P", "1"}, "TIFF": {"1", "L", "P", "RGB", "RGBA", "LA", "I;16", "I", "F", "CMYK"}}


@st.composite
def image_bytes(draw) -> bytes:
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(sorted(SAVABLE[fmt])))
    width, height = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    seed = draw(st.integers(0, 2**32 - 1))
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    im = Image.fromarray(rgb).convert(mode if mode not in ("I;16", "I", "F") else "L")
    if mode in ("I;16", "I", "F"):
        im = im.convert("I") if mode != "F" else im.convert("F")
        if mode == "I;16":
            im = Image.fromarray(np.asarray(im).astype(np.uint16))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if fmt in ("JPEG", "PNG", "TIFF") and draw(st.booleans()):
        exif[0x0112] = draw(st.integers(0, 10))
    im.save(buffer, format=fmt, exif=exif, **FORMATS[fmt]) if len(exif) else im.save(buffer, format=fmt,
                                                                                       **FORMATS[fmt])
    return buffer.getvalue()


@st.composite
def mutated(draw, base) -> bytes:
    data = bytearray(draw(base))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "header"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:  # the header's size fields and their neighbours
            at = draw(st.integers(0, min(40, len(data) - 1)))
            data[at] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
    return bytes(data)


def png_with_size(width: int, height: int, bit_depth: int, colour: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


headers = st.builds(png_with_size, st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1),
                    st.sampled_from([1, 2, 4, 8, 16, 3]), st.sampled_from([0, 2, 3, 4, 6, 5]))


def check_loaded(data: bytes) -> None:
    try:
        a = load_image(data, name="x")
    except ImageLoadError as exc:
        assert str(exc).startswith("x: ") and "\n" not in str(exc)
        return
    assert isinstance(a, np.ndarray) and a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
    assert a.shape[0] >= 1 and a.shape[1] >= 1 and a.flags["C_CONTIGUOUS"] and a.flags["WRITEABLE"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(image_bytes(), mutated(image_bytes()), mutated(headers), headers,
                 st.binary(max_size=200)))
def test_any_image_bytes_load_or_raise_image_load_error(data):
    check_loaded(data)


@settings(max_examples=30, deadline=None)
@given(image_bytes())
def test_whole_images_always_load(data):
    a = load_image(data)
    assert a.dtype == np.uint8 and a.shape[2] == 3


# -- command lines ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    (folder / "a.jpg").write_bytes(lfw_image("George_W_Bush", 1).read_bytes())
    (folder / "b.jpg").write_bytes(lfw_image("Colin_Powell", 1).read_bytes())
    (folder / "sub").mkdir()
    (folder / "sub" / "broken.jpg").write_bytes(lfw_image("George_W_Bush", 2).read_bytes()[:3000])
    (folder / "notes.txt").write_text("Aaron_Eckhart 1 2\n")
    (folder / "pairs.txt").write_text("1\nGeorge_W_Bush 1 2\nGeorge_W_Bush 1 Colin_Powell 1\n")
    (folder / "gone.jpg").symlink_to(folder / "nowhere.jpg")
    return folder


def tree_digest(folder) -> str:
    h = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(root, name)
            h.update(path.encode())
            if os.path.islink(path):
                h.update(os.readlink(path).encode())
            elif os.path.isfile(path):
                with open(path, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


junk = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12)
numbers = st.sampled_from(["0", "1", "-1", "5", "0.5", "nan", "inf", "-inf", "1e309", "x", "", "2"])


@st.composite
def argv(draw, folder) -> list[str]:
    files = [str(folder / n) for n in ("a.jpg", "b.jpg", "sub/broken.jpg", "notes.txt", "gone.jpg", "missing.jpg")]
    paths = st.sampled_from(files + [str(folder), str(folder / "sub")])
    command = draw(st.sampled_from(["verify", "detect", "embed", "eval", "albums"]))
    args = [command]
    if command == "verify":
        args += [draw(paths), draw(paths)]
    elif command in ("detect", "embed"):
        args += draw(st.lists(paths, min_size=1, max_size=3))
    elif command == "eval":
        args += draw(st.sampled_from([["--pairs", str(folder / "pairs.txt"), "--images", str(folder)],
                                      ["--pairs", str(folder / "notes.txt")], ["--identities", str(folder)],
                                      ["--pairs", draw(paths)], []]))
    else:
        args += [draw(st.sampled_from(["--list", "--suggest", "--undo"]))]
    options = {
        "verify": ["--json", "--closest", "--face-crop", "--flip", "--upsample", "--max-side", "--threshold",
                   "--distance", "--encoder"],
        "detect": ["--json", "--upsample", "--max-side"],
        "embed": ["--json", "--flip", "--upsample", "--max-side", "--encoder"],
        "eval": ["--json", "--quiet", "--no-cache", "--folds", "--pairs-per-fold", "--batch-size", "--workers",
                 "--distance", "--encoder"],
        "albums": ["--json", "--rename", "--merge", "--into", "--no-progress"],
    }[command]
    for option in draw(st.lists(st.sampled_from(options), max_size=3, unique=True)):
        args.append(option)
        if option in ("--upsample", "--max-side", "--threshold", "--folds", "--pairs-per-fold", "--batch-size",
                      "--workers"):
            value = draw(numbers)
            args.append(value if option != "--upsample" or value not in ("2", "5") else "1")
        elif option == "--distance":
            args.append(draw(st.sampled_from(["cosine", "euclidean-l2", "manhattan", ""])))
        elif option == "--encoder":
            args.append(draw(st.sampled_from(["dlib", "nosuch", "dlib+missing", "+", ""])))
        elif option in ("--rename", "--merge"):
            args += [draw(st.sampled_from(["1", "0", "x"])), draw(junk)]
        elif option == "--into":
            args.append(draw(junk))
    if draw(st.booleans()):
        args.insert(draw(st.integers(0, len(args))), draw(junk))  # a stray word anywhere
    return args


@pytest.fixture(scope="module")
def library_home(tmp_path_factory):
    return tmp_path_factory.mktemp("library-home")


def test_cli_arguments_end_in_0_1_or_2_without_traceback(photo_folder, library_home, monkeypatch):
    monkeypatch.setenv("FACEREID_HOME", str(library_home))
    before = tree_digest(photo_folder)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(argv(photo_folder))
    def check(args):
        code, out, err = run_cli(args)
        event(f"{args[0]} exit {code}")
        assert code in (0, 1, 2), (args, code, err)
        assert "Traceback" not in err and "Traceback" not in out, (args, err)
        if code in (0, 1) and "--json" in args and args[0] != "albums":
            for line in out.splitlines():
                json.loads(line, parse_constant=lambda c: pytest.fail(f"{args}: non-standard JSON {c}"))
        assert tree_digest(photo_folder) == before, args

    check()
