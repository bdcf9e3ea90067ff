"""Albums quality on LFW: the people with at least 10 images (158 people, 4,324 images) as one flat set.

Every image is a photo; its labelled face is the detection nearest the image centre (other faces in
the image are grouped too, as in a real library, but have no label). BCubed precision / recall / F1
of the albums against the true identities, for FaceReID's grouping and for the baselines on the same
dlib embeddings, in the same run:

* Chinese whispers (dlib's ``chinese_whispers_clustering``) with edges below 0.5;
* DBSCAN, eps 0.45, min 2 points;
* average-linkage agglomerative clustering cut at 0.55 (exact, nearest-neighbour chain).

Unsorted faces and images without a detected face count as clusters of their own.
The embeddings are computed once with the pipeline and cached (``--embeddings``). ``--encoder``
chooses the encoder (default: dlib, the reference the baselines' thresholds were set for; for another
encoder they, and FaceReID's own settings, are scaled by its calibrated euclidean threshold / 0.6,
as ``GroupSettings.for_encoder`` scales them in the app); ``--detector`` the face detector.

    .venv/bin/python benchmarks/bench_albums_lfw.py [--encoder fused] [--detector yunet] [--sweep] [--full]
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


#: Distances of the baselines are dlib's; for another encoder main() scales them like GroupSettings.
SCALE = 1.0


def compute_embeddings(path: Path, min_images: int = 10, max_images: int = 10**6, encoder: str = "dlib",
                       detector: str = "mmod") -> None:
    """Detect, align and embed every face of the LFW people with ``min_images``..``max_images`` images."""
    from facereid_engine.images import load_image
    from facereid_engine.pipeline import FacePipeline
    from facereid_engine.library.scanning import sharpness
    p0 = FacePipeline(encoder, detector=detector, max_side=None)
    p1 = FacePipeline(encoder, detector=detector, max_side=None, upsample=1)
    names = [ln.split()[0] for ln in open(LFW / "lfw-names.txt")
             if min_images <= int(ln.split()[1]) <= max_images]
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


def methods(x: np.ndarray, seeds: np.ndarray, settings: GroupSettings, photos: np.ndarray | None = None) -> dict:
    """Labels of every method on the same embeddings."""
    return {
        "FaceReID albums": lambda: group_faces(x, settings=settings, photos=photos, can_seed=seeds),
        "Chinese whispers 0.5": lambda: chinese_whispers(x, 0.5 * SCALE),
        "DBSCAN eps 0.45 min 2": lambda: dbscan(x, 0.45 * SCALE),
        "average linkage cut 0.55": lambda: average_linkage(x, 0.55 * SCALE),
    }


def table(title: str, results: dict) -> None:
    print(f"\n{title}\n{'method':<36} {'P':>6} {'R':>6} {'F1':>6} {'albums':>7} {'unsorted':>8} {'seconds':>8}")
    for name, r in results.items():
        print(f"{name:<36} {r['precision']:.4f} {r['recall']:.4f} {r['f1']:.4f} {r['albums']:>7} "
              f"{r['unsorted']:>8} {r.get('seconds', float('nan')):>8.2f}")


def run_all(x, truth, seeds, settings, n_missing=0, truth_missing=None, photos=None, skip=()) -> dict:
    truth_missing = np.zeros(0, int) if truth_missing is None else truth_missing
    out = {}
    for name, fn in methods(x, seeds, settings, photos).items():
        if name in skip:
            continue
        t = time.perf_counter()
        labels = fn()
        out[name] = evaluate(labels, truth, n_missing, truth_missing) | {"seconds": time.perf_counter() - t}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", default="dlib")
    ap.add_argument("--detector", default="mmod", choices=("mmod", "yunet"))
    ap.add_argument("--embeddings", type=Path, help="default: $FACEREID_LFW10, else ../notes/lfw10_embeddings"
                    "[_ENCODER].npz")
    ap.add_argument("--rest", type=Path, help="embeddings of the other LFW people (for the all-of-LFW check; "
                    "computed if missing with --full; default ../notes/lfw_rest_embeddings[_ENCODER].npz)")
    ap.add_argument("--full", action="store_true", help="also group all 13,233 LFW images (5,749 people)")
    ap.add_argument("--sweep", action="store_true", help="also sweep FaceReID's threshold and spread ratio")
    args = ap.parse_args()
    global SCALE
    suffix = ("" if args.encoder == "dlib" else f"_{args.encoder}") + (
        "" if args.detector == "mmod" else f"_{args.detector}")
    args.embeddings = args.embeddings or Path(os.environ.get(
        "FACEREID_LFW10", ROOT.parent / "notes" / f"lfw10_embeddings{suffix}.npz"))
    args.rest = args.rest or ROOT.parent / "notes" / f"lfw_rest_embeddings{suffix}.npz"
    if args.encoder != "dlib":
        from facereid_engine.thresholds import default_threshold
        SCALE = default_threshold(args.encoder, "euclidean")[0] / 0.6
    print(f"encoder {args.encoder}, detector {args.detector}; baseline distances scaled by {SCALE:.4f}")
    if not args.embeddings.exists():
        compute_embeddings(args.embeddings, encoder=args.encoder, detector=args.detector)
    d = load(args.embeddings)
    n_images = len(d["paths"])
    image_label = np.array([list(d["names"]).index(p.split("/")[0]) for p in d["paths"]])
    missing = np.setdiff1d(np.arange(n_images), d["image"])
    main_rows = np.flatnonzero(d["main"])
    print(f"LFW people with >= 10 images: {n_images} images of {len(d['names'])} people; {len(d['emb'])} faces "
          f"detected; {len(missing)} images without a face; {len(d['emb']) - len(main_rows)} other faces")
    truth_main = d["label"][main_rows]
    x_main = d["emb"][main_rows].astype(np.float32)
    settings = GroupSettings.for_encoder(args.encoder)
    seeds = settings.can_seed(d["size"], d["score"], d["sharp"])

    results = run_all(x_main, truth_main, seeds[main_rows], settings, len(missing), image_label[missing])
    t = time.perf_counter()
    labels = group_faces(d["emb"], settings=settings, photos=d["image"], can_seed=seeds)
    results["FaceReID albums, with the other faces"] = evaluate(
        labels[main_rows], truth_main, len(missing), image_label[missing]) | {"seconds": time.perf_counter() - t}
    table("One flat folder, labelled face of each image (BCubed over images):", results)

    # Small and middle-sized libraries: random sets of 5 and of 30 people.
    rng = np.random.default_rng(0)
    for people_per_set, sets in ((5, 40), (30, 10)):
        runs: dict[str, list] = {}
        for _ in range(sets):
            people = rng.choice(len(d["names"]), people_per_set, replace=False)
            rows = np.flatnonzero(np.isin(truth_main, people))
            for name, r in run_all(x_main[rows], truth_main[rows], seeds[main_rows][rows], settings).items():
                runs.setdefault(name, []).append(r)
        table(f"{people_per_set} random people (mean of {sets} sets):",
              {k: {m: float(np.mean([r[m] for r in v])) for m in v[0]} for k, v in runs.items()})

    if args.sweep:
        from dataclasses import replace
        sweep = {}
        for th, tight, ratio in ((0.62, 0.62, 0.0), (0.56, 0.56, 0.0), (0.62, 0.62, 1.45), (0.58, 0.48, 1.45),
                                 (0.62, 0.48, 1.3), (0.62, 0.48, 1.6), (0.66, 0.48, 1.45), (0.70, 0.48, 1.45)):
            s = replace(settings, threshold=th, tight_threshold=tight, join_threshold=th, spread_ratio=ratio)
            lab = group_faces(x_main, settings=s, can_seed=seeds[main_rows])
            sweep[f"threshold {th:.2f} tight {tight:.2f} ratio {ratio}"] = evaluate(
                lab, truth_main, len(missing), image_label[missing])
        table("FaceReID sweep (ratio 0, tight = threshold: plain average linkage on RMS distances):", sweep)

    if args.full:
        if not args.rest.exists():
            compute_embeddings(args.rest, min_images=1, max_images=9, encoder=args.encoder,
                               detector=args.detector)
        r = load(args.rest)
        offset = len(d["names"])
        xa = np.concatenate([x_main, r["emb"][r["main"]]]).astype(np.float32)
        truth = np.concatenate([truth_main, r["label"][r["main"]] + offset])
        sa = np.concatenate([seeds[main_rows], settings.can_seed(r["size"], r["score"], r["sharp"])[r["main"]]])
        n_missing = len(missing) + len(r["paths"]) - int(r["main"].sum())
        truth_missing = np.concatenate([image_label[missing], np.full(n_missing - len(missing), -1)])
        truth_missing[len(missing):] = -1 - np.arange(n_missing - len(missing))     # unknown: each alone
        print(f"\nAll of LFW: {len(xa) + n_missing} images, {len(np.unique(truth))} people")
        table("All of LFW as one flat folder (13,233 images, 5,749 people, 4,069 seen once):",
              run_all(xa, truth, sa, settings, n_missing, truth_missing, skip=("DBSCAN eps 0.45 min 2",)))


if __name__ == "__main__":
    main()
