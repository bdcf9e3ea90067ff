"""Albums quality on LFW: the people with at least 10 images (158 people, 4,324 images) as one flat set.

Every image is a photo; its labelled face is the detection nearest the image centre (other faces in
the image are grouped too, as in a real library, but have no label). BCubed precision / recall / F1
of the albums against the true identities, for FaceReID's grouping and for the baselines on the same
dlib embeddings, in the same run:

* Chinese whispers (dlib's ``chinese_whispers_clustering``) with edges below 0.5;
* DBSCAN, eps 0.45, min 2 points;
* average-linkage agglomerative clustering cut at 0.55 (exact, nearest-neighbour chain).

Unsorted faces and images without a detected face count as clusters of their own.
The embeddings are computed once with the pipeline and cached (``--embeddings``).

    .venv/bin/python benchmarks/bench_albums_lfw.py [--embeddings FILE] [--sweep]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facereid_engine.clustering import GroupSettings, group_faces  # noqa: E402
from facereid_engine.clustering.quality import bcubed  # noqa: E402

LFW = Path(os.environ.get("FACEREID_DATA", ROOT.parent / "shared" / "data")) / "lfw"


def compute_embeddings(path: Path, min_images: int = 10) -> None:
    """Detect, align and embed every face of the LFW people with >= ``min_images`` images."""
    from facereid_engine.images import load_image
    from facereid_engine.pipeline import FacePipeline
    from facereid_engine.scanning import sharpness
    p0, p1 = FacePipeline("dlib", max_side=None), FacePipeline("dlib", max_side=None, upsample=1)
    names = [ln.split()[0] for ln in open(LFW / "lfw-names.txt") if int(ln.split()[1]) >= min_images]
    rows: dict[str, list] = {k: [] for k in ("image", "label", "box", "score", "lm", "emb", "upsample", "sharp")}
    paths = []
    for label, name in enumerate(names):
        for f in sorted((LFW / "images" / name).glob("*.jpg")):
            img = load_image(f)
            up, faces = 0, p0.find_faces(img)
            if not faces:
                up, faces = 1, p1.find_faces(img)
            paths.append(f"{name}/{f.name}")
            if faces:
                chips = p0.chips(img, faces)
                for face, chip, vec in zip(faces, chips, p0.embed_chips(chips)):
                    for key, value in (("image", len(paths) - 1), ("label", label), ("box", face.box),
                                       ("score", face.score), ("lm", face.landmarks), ("emb", vec),
                                       ("upsample", up), ("sharp", sharpness(chip))):
                        rows[key].append(value)
        print(f"{label + 1}/{len(names)} {name}", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, paths=np.array(paths), names=np.array(names), **{k: np.array(v) for k, v in rows.items()})


def load(path: Path) -> dict:
    d = dict(np.load(path))
    box = d["box"].astype(float)
    centre = np.stack([(box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2], 1)
    off = np.linalg.norm(centre - 125.0, axis=1)
    main = np.zeros(len(box), bool)
    for img in np.unique(d["image"]):
        rows = np.flatnonzero(d["image"] == img)
        main[rows[np.argmin(off[rows])]] = True
    d["main"] = main
    d["size"] = np.minimum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) + 1
    return d


def evaluate(labels_main: np.ndarray, truth_main: np.ndarray, n_missing: int, truth_missing: np.ndarray) -> dict:
    """BCubed over every image: images without a face are singletons."""
    labels = np.concatenate([labels_main, np.full(n_missing, -1)])
    truth = np.concatenate([truth_main, truth_missing])
    p, r, f = bcubed(labels, truth)
    albums = len(np.unique(labels_main[labels_main >= 0]))
    return {"precision": p, "recall": r, "f1": f, "albums": albums, "unsorted": int((labels < 0).sum())}


# -- baselines (on the labelled faces only, as measured in the issue) ----------------------------------
def _dist_matrix(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    sq = (x * x).sum(1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0))


def chinese_whispers(x: np.ndarray, threshold: float) -> np.ndarray:
    import dlib
    return np.array(dlib.chinese_whispers_clustering([dlib.vector(v.astype(float).tolist()) for v in x], threshold))


def dbscan(x: np.ndarray, eps: float, min_points: int = 2) -> np.ndarray:
    d = _dist_matrix(x)
    near = d <= eps
    core = near.sum(1) >= min_points        # counts the point itself, as scikit-learn does
    labels = np.full(len(x), -1)
    cluster = 0
    for i in np.flatnonzero(core):
        if labels[i] >= 0:
            continue
        stack, labels[i] = [i], cluster
        while stack:
            j = stack.pop()
            if not core[j]:
                continue
            for k in np.flatnonzero(near[j] & (labels < 0)):
                labels[k] = cluster
                stack.append(k)
        cluster += 1
    return labels


def average_linkage(x: np.ndarray, cut: float) -> np.ndarray:
    """Exact average linkage (UPGMA) by the nearest-neighbour chain, cut at ``cut``."""
    d = _dist_matrix(x)
    n = len(x)
    np.fill_diagonal(d, np.inf)
    size = np.ones(n)
    active = np.ones(n, bool)
    parent = np.arange(n)
    merges = []
    chain: list[int] = []
    while active.sum() > 1:
        if not chain:
            chain = [int(np.flatnonzero(active)[0])]
        a = chain[-1]
        row = np.where(active, d[a], np.inf)
        row[a] = np.inf
        b = int(np.argmin(row))
        if len(chain) > 1 and row[chain[-2]] <= row[b]:
            b = chain[-2]
        if len(chain) > 1 and b == chain[-2]:
            chain.pop()
            chain.pop()
            merges.append((row[b], a, b))
            new = (size[a] * d[a] + size[b] * d[b]) / (size[a] + size[b])
            d[a], d[:, a] = new, new
            d[a, a] = np.inf
            active[b] = False
            d[b], d[:, b] = np.inf, np.inf
            size[a] += size[b]
        else:
            chain.append(b)
    for height, a, b in sorted(merges):
        if height > cut:
            break
        parent[b] = a
    for _ in range(n):
        grand = parent[parent]
        if np.array_equal(grand, parent):
            break
        parent = grand
    return parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--embeddings", type=Path, default=Path(os.environ.get(
        "FACEREID_LFW10", ROOT.parent / "notes" / "lfw10_embeddings.npz")))
    ap.add_argument("--sweep", action="store_true", help="also sweep FaceReID's threshold")
    args = ap.parse_args()
    if not args.embeddings.exists():
        compute_embeddings(args.embeddings)
    d = load(args.embeddings)
    n_images = len(d["paths"])
    image_label = np.array([list(d["names"]).index(p.split("/")[0]) for p in d["paths"]])
    missing = np.setdiff1d(np.arange(n_images), d["image"])
    main_rows = np.flatnonzero(d["main"])
    print(f"{n_images} images of {len(d['names'])} people; {len(d['emb'])} faces; "
          f"{len(missing)} images without a face; {len(d['emb']) - len(main_rows)} extra faces")
    truth_missing = image_label[missing]
    truth_main = d["label"][main_rows]
    x_main = d["emb"][main_rows].astype(np.float32)

    results = {}
    settings = GroupSettings()
    seeds = settings.can_seed(d["size"], d["score"], d["sharp"])
    t = time.perf_counter()
    labels = group_faces(d["emb"], settings=settings, photos=d["image"], can_seed=seeds)
    t_ours = time.perf_counter() - t
    results["FaceReID albums (all faces)"] = evaluate(labels[main_rows], truth_main, len(missing), truth_missing)
    labels = group_faces(x_main, settings=settings, can_seed=seeds[main_rows])
    results["FaceReID albums (labelled faces)"] = evaluate(labels, truth_main, len(missing), truth_missing)
    for name, fn in (("Chinese whispers 0.5", lambda: chinese_whispers(x_main, 0.5)),
                     ("DBSCAN eps 0.45 min 2", lambda: dbscan(x_main, 0.45)),
                     ("average linkage cut 0.55", lambda: average_linkage(x_main, 0.55))):
        results[name] = evaluate(fn(), truth_main, len(missing), truth_missing)
    if args.sweep:
        from dataclasses import replace
        for th in (0.45, 0.48, 0.5, 0.52, 0.54, 0.56):
            for join in (th, th + 0.04, th + 0.08):
                s = replace(settings, threshold=th, join_threshold=join)
                lab = group_faces(x_main, settings=s, can_seed=seeds[main_rows])
                results[f"  sweep threshold {th:.2f} join {join:.2f}"] = evaluate(lab, truth_main, len(missing),
                                                                               truth_missing)
    print(f"{'method':<36} {'P':>6} {'R':>6} {'F1':>6} {'albums':>7} {'unsorted':>8}")
    for name, r in results.items():
        print(f"{name:<36} {r['precision']:.4f} {r['recall']:.4f} {r['f1']:.4f} {r['albums']:>7} {r['unsorted']:>8}")
    print(f"FaceReID grouping of {len(d['emb'])} faces: {t_ours:.2f} s")


if __name__ == "__main__":
    main()
