"""MMOD against YuNet in the pipeline, in one run: faces found, smallest face found, time per photo.

- Group photos (and the enrolment portraits): faces found by each detector at its default size.
- LFW: found-rate on a seeded sample of images, and the geometry that ties the two detectors
  together (the box MMOD draws relative to YuNet's, and where dlib's landmarks fall in SFace's
  112x112 frame: the constants in ``pipeline._MMOD_FROM_YUNET`` and ``sface.align.DLIB_TEMPLATE``).
- Smallest face: an LFW face pasted, shrinking, into a 4032x3024 (12 MP) grey frame.
- Time per 12 MP photo: a group photo scaled to 4032x3024, detection + landmarks, best of ``--repeat``.

Run: ``.venv/bin/python benchmarks/bench_detectors.py [--lfw 300] [--out F]``
"""
from __future__ import annotations

import argparse
import random
import time

import numpy as np
from PIL import Image

from _common import GROUP, LFW, report


def _centre(box):
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def _lfw_sample(n: int, seed: int = 0):
    people = sorted((LFW / "images").iterdir())
    rng = random.Random(seed)
    return [rng.choice(sorted(p.iterdir())) for p in rng.sample(people, n)]


def geometry(pipes, files) -> dict:
    """Found-rates on LFW and the MMOD/YuNet box relation and dlib template (medians / means)."""
    from facereid_engine.encoders.sface.align import similarity_transform
    from facereid_engine.images import load_image

    found = {k: 0 for k in pipes}
    ratios, mapped = [], []
    for path in files:
        image = load_image(path)
        faces = {k: p.detect(image) for k, p in pipes.items()}
        for k, v in faces.items():
            found[k] += bool(v)
        if not faces["mmod"] or not faces["yunet"]:
            continue
        m = min(faces["mmod"], key=lambda d: np.hypot(*np.subtract(_centre(d.box), (125, 125))))
        y = min(faces["yunet"], key=lambda d: np.hypot(*np.subtract(_centre(d.box), _centre(m.box))))
        mw, mh = m.box[2] - m.box[0] + 1, m.box[3] - m.box[1] + 1
        yw, yh = y.box[2] - y.box[0] + 1, y.box[3] - y.box[1] + 1
        (mx, my), (yx, yy) = _centre(m.box), _centre(y.box)
        ratios.append(((mx - yx) / yw, (my - yy) / yh, mw / yw, mh / yh))
        landmarks = pipes["mmod"].landmarks(image, [m.box])[0]
        a = similarity_transform(y.keypoints)
        mapped.append(landmarks @ a[:, :2].T + a[:, 2])
    return {"lfw_images": len(files), "found": found,
            "mmod_from_yunet_median (dx/w, dy/h, w, h)": np.round(np.median(ratios, axis=0), 3).tolist(),
            "dlib_landmarks_in_sface_frame_mean": np.round(np.mean(mapped, axis=0), 3).tolist(),
            "faces_measured": len(ratios)}


def group(pipes) -> dict:
    from facereid_engine.images import load_image

    photos = sorted((GROUP / "photos").iterdir()) + sorted((GROUP / "enrollment").rglob("*.jp*g"))
    out = {}
    for name, pipe in pipes.items():
        start = time.perf_counter()
        counts = {p.name: len(pipe.detect(load_image(p))) for p in photos}
        out[name] = {"faces": sum(counts.values()), "seconds": round(time.perf_counter() - start, 2),
                     "per_photo": counts}
    return out


def smallest(pipes, sides=(160, 128, 112, 96, 80, 72, 64, 56, 48, 40, 32)) -> dict:
    from facereid_engine.images import load_image

    face = Image.fromarray(load_image(LFW / "images" / "George_W_Bush" / "George_W_Bush_0001.jpg"))
    out = {}
    for name, pipe in pipes.items():
        seen = None
        for side in sides:  # the LFW image is ~2.3x its face's width
            frame = Image.new("RGB", (4032, 3024), (128, 128, 128))
            frame.paste(face.resize((round(side * 2.3),) * 2, Image.BILINEAR), (2000, 1500))
            if pipe.detect(np.asarray(frame)):
                seen = side
            else:
                break
        out[name] = f"~{seen} px face width" if seen else "none of the sizes tried"
    return out


def twelve_mp(pipes, repeat: int) -> dict:
    photo = GROUP / "photos" / "face_recognition_obama_and_biden.jpg"
    image = np.asarray(Image.open(photo).convert("RGB").resize((4032, 3024), Image.BILINEAR))
    out = {}
    for name, pipe in pipes.items():
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            faces = pipe.find_faces(image)
            best = min(best, time.perf_counter() - start)
        out[name] = {"seconds": round(best, 3), "faces": len(faces)}
    out["yunet_speedup"] = round(out["mmod"]["seconds"] / out["yunet"]["seconds"], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lfw", type=int, default=300, help="LFW images sampled (seed 0)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out")
    args = ap.parse_args()
    from facereid_engine.pipeline import FacePipeline

    pipes = {"mmod": FacePipeline("dlib", detector="mmod"), "yunet": FacePipeline("dlib", detector="yunet")}
    lfw_pipes = {k: FacePipeline("dlib", detector=k, max_side=None) for k in pipes}
    payload = {"group_photos": group(pipes), "twelve_mp": twelve_mp(pipes, args.repeat),
               "smallest_face_in_12mp": smallest(pipes), "lfw": geometry(lfw_pipes, _lfw_sample(args.lfw))}
    report("bench_detectors", payload, args.out)


if __name__ == "__main__":
    main()
