"""``facereid eval``: accuracy, ROC, EER and TAR@FAR of encoders x distances on a labelled pair set."""
from __future__ import annotations

import re
import shlex
import sys
from datetime import datetime
from pathlib import Path

from ..distances import DISTANCES
from ..encoders import DEFAULT_ENCODER
from ..errors import FaceReIDError
from . import dumps, int_range


def register(sub) -> None:
    p = sub.add_parser(
        "eval", help="evaluate encoders and distances on an LFW pairs file or a folder of people",
        description="Measure verification accuracy on labelled pairs. With a 10-fold file (LFW pairs.txt) each "
                    "fold is scored at the threshold chosen on the other nine; with --train-pairs the threshold "
                    "is chosen on that file and --pairs is scored once; a one-fold file alone is scored at the "
                    "calibrated default threshold. AUC, EER and TAR@FAR use all scored pairs.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--pairs", metavar="FILE", help="an LFW-format pairs file (pairs.txt, pairsDevTest.txt, ...)")
    source.add_argument("--identities", metavar="DIR", help="a folder with one sub-folder of photos per person")
    p.add_argument("--images", metavar="DIR", help="image folder of the pairs files (<name>/<name>_NNNN.jpg); "
                                                    "default: images/ next to the pairs file")
    p.add_argument("--train-pairs", metavar="FILE", help="choose the thresholds on this pairs file instead")
    p.add_argument("--encoder", action="extend", nargs="+", metavar="E",
                   help=f"encoder name(s) (default {DEFAULT_ENCODER})")
    p.add_argument("--distance", action="extend", nargs="+", metavar="D",
                   help=f"distance name(s) (default all: {', '.join(DISTANCES)})")
    p.add_argument("--flip", action="store_true", help="average each face's vector with its mirror image's")
    p.add_argument("--detector", choices=("mmod", "yunet"), default="mmod",
                   help="face detector (default mmod: dlib's CNN; yunet: OpenCV Zoo's YuNet)")
    p.add_argument("--out", metavar="DIR", help="write results.json and PNG charts into this folder")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.add_argument("--folds", type=int_range(1), default=10, metavar="N", help="folds for --identities (default 10)")
    p.add_argument("--pairs-per-fold", type=int_range(1), default=300, metavar="N",
                   help="matched (and as many mismatched) pairs per fold for --identities (default 300)")
    p.add_argument("--seed", type=int, default=0, help="seed of the --identities pairs (default 0)")
    p.add_argument("--batch-size", type=int_range(1), default=32, metavar="N", help="chips per encoder call")
    p.add_argument("--workers", type=int_range(1, 64), default=2, metavar="N", help="threads decoding and detecting ahead")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the embedding cache")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _load_pairs(args):
    from ..evaluation.pairsets import identity_pairs, read_pairs_file
    if args.identities:
        if args.train_pairs:
            raise FaceReIDError("--train-pairs goes with --pairs, not --identities (a folder of people is "
                                "scored with its own folds)")
        pairs = identity_pairs(args.identities, n_folds=args.folds, pairs_per_fold=args.pairs_per_fold,
                               seed=args.seed)
        return pairs, None
    pairs = read_pairs_file(args.pairs, args.images)
    train = read_pairs_file(args.train_pairs, args.images) if args.train_pairs else None
    return pairs, train


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


def write_charts(evaluation, folder: Path) -> list[Path]:
    """accuracy_<encoder>.png, roc_<encoder>.png and histograms_<encoder>.png for each encoder."""
    from matplotlib.figure import Figure

    from ..evaluation.charts import draw_accuracy, draw_result_histograms, draw_roc
    written = []
    for name, by_distance in evaluation.results.items():
        results = list(by_distance.values())
        for kind, draw in (("accuracy", draw_accuracy), ("roc", draw_roc)):
            fig = Figure(figsize=(7, 4.5), layout="constrained")
            ax = fig.add_subplot()
            draw(ax, results)
            ax.set_title(f"{name}: {'accuracy against threshold' if kind == 'accuracy' else 'ROC'}")
            path = folder / f"{kind}_{_safe(name)}.png"
            fig.savefig(path, dpi=110)
            written.append(path)
        fig = Figure(figsize=(5 * len(results), 4), layout="constrained")
        for i, result in enumerate(results):
            draw_result_histograms(fig.add_subplot(1, len(results), i + 1), result)
        path = folder / f"histograms_{_safe(name)}.png"
        fig.savefig(path, dpi=110)
        written.append(path)
    return written


def _table(evaluation) -> str:
    lines = []
    first = next(iter(next(iter(evaluation.results.values())).values()), None)
    if first is not None:
        lines.append(f"{evaluation.pairs.n_pairs} pairs, {evaluation.pairs.n_folds} fold(s); accuracy: "
                     f"{first.score.description}")
    head = f"{'encoder':<12} {'distance':<13} {'accuracy (mean ± std)':<23} {'threshold':>9} {'AUC':>7} " \
           f"{'EER':>7} {'TAR@1e-3':>9} {'TAR@1e-2':>9}"
    lines.append(head)
    for name, enc in evaluation.encoders.items():
        for dist, r in enc.distances.items():
            tars = [r.tar_at_far.get(f, (float("nan"),))[0] for f in (1e-3, 1e-2)]
            acc = f"{100 * r.score.accuracy_mean:.2f}% ± {100 * r.score.accuracy_std:.2f}"
            lines.append(f"{name:<12} {dist:<13} {acc:<23} {r.threshold:>9.4f} {r.auc:>7.4f} {r.eer[0]:>7.4f} "
                         f"{tars[0]:>9.4f} {tars[1]:>9.4f}")
        note = f"; {enc.fallbacks} image(s) without a detected face used the centre box" if enc.fallbacks else ""
        lines.append(f"  {name}: {enc.n_images} images, {enc.cached} from the cache, "
                     f"{enc.embed_seconds:.1f} s{note}")
    lines.append(f"flip: {'on' if evaluation.flip else 'off'}; std is the sample standard deviation over folds")
    return "\n".join(lines)


def command_line(args) -> str:
    """The command that reproduces this run, for the record in the JSON."""
    parts = ["facereid", "eval"]
    for flag, value in (("--pairs", args.pairs), ("--identities", args.identities), ("--images", args.images),
                        ("--train-pairs", args.train_pairs)):
        if value:
            parts += [flag, str(value)]
    if args.identities:
        parts += ["--folds", str(args.folds), "--pairs-per-fold", str(args.pairs_per_fold), "--seed", str(args.seed)]
    parts += ["--encoder", *(args.encoder or [DEFAULT_ENCODER])]
    parts += ["--distance", *(args.distance or DISTANCES)]
    if args.flip:
        parts.append("--flip")
    if args.detector != "mmod":
        parts += ["--detector", args.detector]
    return shlex.join(parts)


def run(args) -> int:
    from ..evaluation.runner import evaluate
    from .progressbar import drive
    pairs, train = _load_pairs(args)  # every check of the input happens here, before any embedding
    out = Path(args.out).expanduser() if args.out else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FaceReIDError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from None
    work = evaluate(pairs, args.encoder or [DEFAULT_ENCODER], args.distance or DISTANCES, train=train,
                    flip=args.flip, use_cache=not args.no_cache, batch_size=args.batch_size,
                    workers=args.workers, detector=args.detector)
    evaluation = drive(work, show=not args.quiet)
    result = {"command": command_line(args), "finished": datetime.now().astimezone().isoformat(timespec="seconds"),
              **evaluation.to_json()}
    if out is not None:
        (out / "results.json").write_text(dumps(result, indent=1) + "\n", encoding="utf-8")
        written = write_charts(evaluation, out)
        if not args.json:
            print(f"wrote {out / 'results.json'} and {len(written)} chart(s)", file=sys.stderr)
    if args.json:
        print(dumps(result))
    else:
        print(_table(evaluation))
    return 0
