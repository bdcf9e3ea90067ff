"""Worker-side work of "Load weights file…": check a weights file the user chose against the hash in
the file name the engine expects, and put it where the engine looks for it."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

#: torchvision's weight file names end with the first hex digits of the file's SHA-256 (``resnet50-0676ba61.pth``).
HASH_IN_NAME = re.compile(r"-([a-f0-9]{6,})\.[A-Za-z0-9]+$")


def weights_file_needed(encoder: str) -> str | None:
    """The file name the engine looks for to make ``encoder`` usable, when its weights are one file
    whose name carries its hash (the ImageNet encoders); None for any other encoder."""
    from facereid_engine.encoders import card

    if card(encoder).family != "imagenet":
        return None
    from facereid_engine.encoders.imagenet import weights_filename

    filename = weights_filename(encoder)
    return filename if HASH_IN_NAME.search(filename) else None


def weights_folder() -> Path:
    """Where the engine looks first: ``$FACEREID_WEIGHTS_DIR`` when set, else torch's hub cache."""
    from facereid_engine.encoders.imagenet import WEIGHTS_DIR_ENV, hub_checkpoints_dir

    chosen = os.environ.get(WEIGHTS_DIR_ENV)
    return Path(chosen).expanduser() if chosen else hub_checkpoints_dir()


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)  # hashlib lets go of the GIL on blocks this large
    return digest.hexdigest()


def install_weights_file(source: str | os.PathLike, filename: str, folder: str | os.PathLike) -> Path:
    """Copy ``source`` to ``folder/filename`` if its SHA-256 starts with the hash in ``filename``.

    Raises ``ModelFileError`` naming ``source`` when it is not that file (nothing is written)."""
    from facereid_engine.errors import ModelFileError

    match = HASH_IN_NAME.search(filename)
    if match is None:
        raise ValueError(f"{filename!r} carries no hash to check a file against")
    expected = match.group(1)
    try:
        actual = sha256_of(source)
    except OSError as exc:
        raise ModelFileError(source, f"cannot be read ({exc.strerror or exc})") from None
    if not actual.startswith(expected):
        raise ModelFileError(source, f"this is not {filename}: its SHA-256 begins {actual[:len(expected)]}, "
                                     f"the file must begin {expected}")
    folder = Path(folder)
    target = folder / filename
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if Path(source).resolve() != target.resolve():
            part = folder / f".{filename}.{os.getpid()}.part"
            shutil.copyfile(source, part)
            os.replace(part, target)
    except OSError as exc:
        raise ModelFileError(target, f"cannot be written ({exc.strerror or exc})") from None
    return target


def load_weights_file(encoder: str, source: str | os.PathLike):
    """Put ``source`` where the engine looks for ``encoder``'s weights (hash checked); returns (the
    path written, a fresh EngineInfo whose cards say the encoder is usable)."""
    from facereid_engine.encoders import forget_encoder

    from .startup import engine_info

    filename = weights_file_needed(encoder)
    if filename is None:
        raise ValueError(f"the encoder {encoder} does not load its weights from a file")
    path = install_weights_file(source, filename, weights_folder())
    forget_encoder(encoder)
    return path, engine_info()
