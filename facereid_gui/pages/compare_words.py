"""The Compare page's words: engine errors as sentences, and the threshold control's range."""
from __future__ import annotations

import math

DISTANCE_WORDS = {"euclidean": "Euclidean", "euclidean_l2": "Euclidean (L2-normalised)", "cosine": "Cosine"}


def error_words(exc: BaseException) -> str:
    """An engine error as a sentence for the user (no traceback)."""
    from facereid_engine.errors import ImageLoadError, ModelUnavailableError, NoFaceFoundError

    if isinstance(exc, ImageLoadError):
        return f"This file cannot be opened as a photo: {exc.cause}."
    if isinstance(exc, NoFaceFoundError):
        return "No face was found in this photo."
    if isinstance(exc, ModelUnavailableError):
        return f"This encoder cannot be used here: {exc}"
    return f"Something went wrong: {exc}" if str(exc) else f"Something went wrong ({type(exc).__name__})."


def unusable_words(encoder: str, reason: str) -> str:
    """Why ``encoder`` cannot be used here, said once in the page."""
    return f"The encoder {encoder} cannot be used here: {reason}"


def is_encoder_problem(exc: BaseException) -> bool:
    """True for an error of the encoder itself (its weights), the same whatever the photo."""
    from facereid_engine.errors import ModelFileError, ModelUnavailableError

    return isinstance(exc, (ModelUnavailableError, ModelFileError))


def threshold_range(encoder: str, distance: str, default: float) -> tuple[float, float, int]:
    """(low, high, decimals) of the threshold control for this encoder and distance."""
    from facereid_engine.evaluation.reference_distances import reference_histogram

    ref = reference_histogram(encoder, distance)
    natural = {"euclidean": 1.2, "euclidean_l2": 1.5, "cosine": 0.5}[distance]
    high = max(2.5 * default, natural if ref is None else float(ref.edges[-1]))
    decimals = 4 if default < 0.1 else 3
    return 0.0, float(f"{high:.2g}") if high < 10 else math.ceil(high), decimals


def weights_words(encoder: str, filename: str, folder: str) -> str:
    """What "Load weights file…" does, for its tooltip."""
    return (f"Choose the file {filename} (torchvision's weights of {encoder}) from your computer: its hash is "
            f"checked and it is copied to {folder}, where FaceReID looks for it.")


def faces_words(n_faces: int, chosen: int, how: str, other: str, other_faces: int) -> str:
    """What a pane says about the face compared. ``how``: ``largest`` (nothing else known yet),
    ``closest`` (chosen for being the closest to the other photo's face) or ``clicked``."""
    if n_faces == 1:
        return "1 face found."
    start = f"{n_faces} faces found; comparing face {chosen + 1}"
    if how == "closest":
        whose = f"photo {other}'s face" if other_faces == 1 else f"a face of photo {other}"
        return f"{start}, the closest to {whose} (click another face to compare it)."
    if how == "clicked":
        return f"{start}, the one you clicked (click another face to compare it)."
    return f"{start} (click another face to compare it)."
