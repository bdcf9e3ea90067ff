"""Small pictures: faces found and album quality on LFW images shrunk to 64-128 px (a third in grey).

LFW people with at least 10 images, ``--people`` of them (seeded), 10 images each; every image scaled
to a seeded long side between 64 and 128 px, one in three made grey. Each detector is run with the old
rule (no upsampling) and today's (small pictures doubled), the face nearest the centre embedded with
dlib, and the faces grouped into albums as a library would (``group_faces``); BCubed F1 counts an
image without a face as an album of its own.

Run: ``.venv/bin/python benchmarks/bench_small_pictures.py [--people 40] [--out F]``
"""
from __future__ import annotations

import argparse
import random

import numpy as np
from PIL import Image

from _common import LFW, report


def pictures(n_people: int, seed: int = 0):
    names = [ln.split()[0] for ln in open(LFW / "lfw-names.txt") if int(ln.split()[1]) >= 10]
    rng = random.Random(seed)
    out = []
    for label, name in enumerate(rng.sample(names, n_people)):
        for path in sorted((LFW / "images" / name).glob("*.jpg"))[:10]:
            image = Image.open(path).convert("RGB")
            side = rng.randint(64, 128)
            image = image.resize((side, side), Image.BILINEAR)
            if rng.random() < 1 / 3:
                image = image.convert("L").convert("RGB")
            out.append((np.asarray(image), label))
    return out


def run(pipe, images) -> dict:
    from facereid_engine.clustering import GroupSettings, group_faces
    from facereid_engine.clustering.quality import bcubed
    from facereid_engine.evaluation.embedding_cache import choose_face

    vectors, truth_found, truth_missing = [], [], []
    for image, label in images:
        found = pipe.detect(image)
        if not found:
            truth_missing.append(label)
            continue
        h, w = image.shape[:2]
        face = pipe.complete(image, [choose_face(found, w, h, "centre")])
        vectors.append(pipe.embed_chips(pipe.chips(image, face))[0])
        truth_found.append(label)
    labels = group_faces(np.array(vectors), settings=GroupSettings.for_encoder("dlib")) if vectors else np.zeros(0)
    all_labels = np.concatenate([labels, np.full(len(truth_missing), -1)])
    p, r, f1 = bcubed(all_labels, np.array(truth_found + truth_missing))
    return {"found": len(truth_found), "of": len(images), "found_rate": round(len(truth_found) / len(images), 4),
            "albums": int(len(np.unique(labels[labels >= 0]))), "bcubed_f1": round(f1, 4),
            "precision": round(p, 4), "recall": round(r, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=40)
    ap.add_argument("--out")
    args = ap.parse_args()
    from facereid_engine.pipeline import FacePipeline

    images = pictures(args.people)
    payload = {"pictures": len(images), "people": args.people}
    for detector in ("mmod", "yunet"):
        for rule, upsample in (("before (no upsampling)", 0), ("today (small pictures doubled)", None)):
            payload[f"{detector}, {rule}"] = run(FacePipeline("dlib", detector=detector, upsample=upsample), images)
    report("bench_small_pictures", payload, args.out)


if __name__ == "__main__":
    main()
