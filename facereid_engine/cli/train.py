"""``facereid train``: fine-tune a head on a frozen encoder and save it as the encoder ``<base>+<name>``."""
from __future__ import annotations

from ..encoders import DEFAULT_ENCODER
from . import dumps, finite_float


def register(sub) -> None:
    p = sub.add_parser(
        "train", help="train a pair classifier or a metric head on an encoder; use it as <base>+<name>",
        description="Train on labelled data with the encoder's embeddings frozen (and cached): 'pair' is an "
                    "order-invariant pair classifier, 'metric' a projection of the embedding trained on "
                    "identities, 'concat' the original study's concatenation classifier (the baseline). A "
                    "seeded share of the people is kept for validation (early stopping, thresholds). The model "
                    "is saved in the data directory and appears as the encoder <base>+<name> everywhere.")
    p.add_argument("--base", default=DEFAULT_ENCODER, metavar="E", help=f"base encoder (default {DEFAULT_ENCODER})")
    p.add_argument("--method", choices=("pair", "metric", "concat"), default="pair")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--pairs", metavar="FILE", help="an LFW-format pairs file (pairsDevTrain.txt)")
    source.add_argument("--identities", metavar="DIR", help="a folder with one sub-folder of photos per person")
    source.add_argument("--people", metavar="FILE", help="an LFW people file (peopleDevTrain.txt)")
    p.add_argument("--images", metavar="DIR", help="image folder of --pairs / --people (<name>/<name>_NNNN.jpg); "
                                                    "default: images/ next to the file")
    p.add_argument("--name", required=True, help="the model's name; the encoder is called <base>+<name>")
    p.add_argument("--seed", type=int, default=0, help="seeds the validation split, weights and batches (default 0)")
    p.add_argument("--epochs", type=int, default=None, metavar="N", help="most epochs (default: the method's)")
    p.add_argument("--patience", type=int, default=None, metavar="N",
                   help="stop after N epochs without a better validation accuracy (default: the method's)")
    p.add_argument("--weight-decay", type=finite_float, default=None, metavar="W", help="default: the method's")
    p.add_argument("--val-fraction", type=finite_float, default=0.2, metavar="F",
                   help="share of the people kept for validation (default 0.2)")
    p.add_argument("--flip", action="store_true", help="average each face's embedding with its mirror image's")
    p.add_argument("--unfreeze", action="store_true",
                   help="also train the backbone's last stage (needs a GPU; not offered on CPU)")
    p.add_argument("--overwrite", action="store_true", help="replace a model of the same name")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..training import TrainConfig, load_training_data, save_trained, train
    from ..training.store import check_name, full_name, list_trained, ModelExistsError
    from .progressbar import drive

    check_name(args.name)
    full = full_name(args.base, args.name)
    if full in list_trained() and not args.overwrite:
        raise ModelExistsError(f"a trained model called {full!r} exists already (--overwrite replaces it)")
    config = TrainConfig(method=args.method, epochs=args.epochs, weight_decay=args.weight_decay,
                         patience="default" if args.patience is None else args.patience,
                         val_fraction=args.val_fraction, seed=args.seed, unfreeze=args.unfreeze).resolved()
    data = load_training_data(pairs=args.pairs, people=args.people, identities=args.identities, images=args.images)
    result = drive(train(data, args.base, config, flip=args.flip), show=not args.quiet)
    name = save_trained(result, args.name, overwrite=args.overwrite)
    summary = {"name": name, **result.summary()}
    if args.json:
        print(dumps(summary))
    else:
        stop = "stopped early" if result.stopped_early else "ran all epochs"
        print(f"saved {name}: {args.method} on {args.base}, validation accuracy {result.val_accuracy:.4f} "
              f"(epoch {result.best_epoch}; {stop}); the plain {args.base} distance (threshold chosen on the "
              f"training pairs) on the same validation pairs: {result.base_val_accuracy:.4f}")
    return 0
