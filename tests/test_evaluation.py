"""Metrics and protocols against hand-computed cases; charts drawn on an Agg figure."""
from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from facereid_engine.evaluation.charts import (draw_accuracy, draw_histograms, draw_result_histograms, draw_roc,
                                    move_threshold_line)
from facereid_engine.evaluation.runner import DistanceResult
from facereid_engine.evaluation.metrics import (accuracy_at, accuracy_curve, auc, best_threshold, equal_error_rate, histograms,
                                     nice_upper_bound, roc_curve, tar_at_far)
from facereid_engine.evaluation.scoring import fixed_threshold, k_fold, train_test
from facereid_engine.evaluation.reference_distances import reference_histogram
from facereid_engine.thresholds import default_threshold

# six pairs: matched at 0.1, 0.2, 0.4; mismatched at 0.3, 0.5, 0.6
D6 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
S6 = [True, True, False, True, False, False]


def test_accuracy_curve_has_every_operating_point():
    thresholds, acc = accuracy_curve(D6, S6)
    assert thresholds[0] < 0.1 and thresholds[-1] == 0.6
    assert thresholds[1:-1] == pytest.approx([0.15, 0.25, 0.35, 0.45, 0.55])
    # accept nothing, then <=0.1, <=0.2, <=0.3, <=0.4, <=0.5, everything
    assert acc * 6 == pytest.approx([3, 4, 5, 4, 5, 4, 3])


def test_best_threshold_takes_the_middle_of_tied_candidates():
    assert best_threshold(D6, S6) == pytest.approx((0.25, 5 / 6))  # ties at 0.25 and 0.45: the lower middle
    # three tied candidates 0.15 / 0.35 / 0.55 (accuracy 3/4 each): the middle one
    t, acc = best_threshold([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], [1, 0, 1, 0, 1, 0, 0, 0])
    assert (t, acc) == pytest.approx((0.35, 0.75))
    # repeated distances: the candidate lies between distinct values only
    assert best_threshold([0.2, 0.2, 0.2, 0.9], [1, 1, 0, 0]) == pytest.approx((0.55, 0.75))


def test_accuracy_at_uses_distance_at_most_threshold():
    assert accuracy_at(D6, S6, 0.2) == pytest.approx(5 / 6)     # 0.2 itself is accepted
    assert accuracy_at(D6, S6, 0.19999) == pytest.approx(4 / 6)


def test_roc_auc_and_ties():
    fpr, tpr, thresholds = roc_curve(D6, S6)
    assert fpr * 3 == pytest.approx([0, 0, 0, 1, 1, 2, 3])
    assert tpr * 3 == pytest.approx([0, 1, 2, 2, 3, 3, 3])
    assert auc(D6, S6) == pytest.approx(8 / 9)  # 8 of the 9 (matched, mismatched) pairs ordered right
    # a tie between a matched and a mismatched distance counts one half: (0.5 + 1 + 0 + 1) / 4
    assert auc([0.2, 0.5, 0.2, 0.7], [1, 1, 0, 0]) == pytest.approx(0.625)
    assert auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == 1.0


def test_equal_error_rate_exact_and_interpolated():
    # at threshold 0.35 FPR = 1/3 and FNR = 1/3 exactly
    assert equal_error_rate(D6, S6) == pytest.approx((1 / 3, 0.35))
    # matched 0.1 0.3 0.5, mismatched 0.2 0.4: FNR - FPR changes sign on the segment from
    # (FPR 1/2, TPR 1/3; threshold 0.25) to (1/2, 2/3; 0.35): half way, EER 1/2 at 0.30
    assert equal_error_rate([0.1, 0.2, 0.3, 0.4, 0.5], [1, 0, 1, 0, 1]) == pytest.approx((0.5, 0.30))
    # separable: EER 0 at the first threshold that accepts every matched pair
    assert equal_error_rate([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]) == pytest.approx((0.0, 0.5))


def test_tar_at_far_is_the_largest_tar_with_far_at_most_the_target():
    d = [0.1, 0.2, 0.3, 0.4, 0.5, 0.35, 0.6, 0.7, 0.8, 0.9]
    s = [1] * 5 + [0] * 5
    assert tar_at_far(d, s, 0.0) == pytest.approx((0.6, 0.325))   # no false accept: up to 0.3
    assert tar_at_far(d, s, 0.19) == pytest.approx((0.6, 0.325))  # 1 of 5 would be FAR 0.2 > 0.19
    assert tar_at_far(d, s, 0.2) == pytest.approx((1.0, 0.55))    # one false accept (0.35) allowed
    assert tar_at_far(d, s, 1.0) == pytest.approx((1.0, 0.9))


def test_histograms_share_round_edges():
    edges, matched, mismatched = histograms(D6, S6, bins=4, upper=1.0)
    assert edges == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert list(matched) == [2, 1, 0, 0] and list(mismatched) == [0, 1, 2, 0]
    edges, matched, mismatched = histograms([0.1, 1.13], [1, 0], bins=6)
    assert edges[-1] == 1.2 and list(matched) == [1, 0, 0, 0, 0, 0] and list(mismatched) == [0] * 5 + [1]
    assert nice_upper_bound(0.071) == pytest.approx(0.08) and nice_upper_bound(2.0) == 2.0
    edges, matched, mismatched = histograms([0.5, 3.0], [1, 0], bins=2, upper=1.0)
    assert list(matched) == [0, 1] and list(mismatched) == [0, 1]  # beyond the range: the last bin


# ------------------------------------------------------------------------------------------------
# protocols: three folds of four pairs, worked out by hand
# ------------------------------------------------------------------------------------------------
FOLD_D = [0.1, 0.3, 0.5, 0.7,   0.2, 0.6, 0.4, 0.8,   0.15, 0.33, 0.25, 0.9]
FOLD_S = [1, 1, 0, 0] * 3
FOLDS = [0] * 4 + [1] * 4 + [2] * 4


def test_k_fold_chooses_each_threshold_on_the_other_folds():
    score = k_fold(FOLD_D, FOLD_S, FOLDS)
    # fold 0 held out: on folds 1+2, 6/8 at 0.225, 0.365 and 0.7 -> the middle, 0.365; fold 0 all right
    # fold 1 held out: on folds 0+2, 7/8 at 0.415 only; fold 1: 0.6 rejected, 0.4 accepted -> 2/4
    # fold 2 held out: on folds 0+1, 7/8 at 0.35 only; fold 2: 0.25 accepted -> 3/4
    assert score.thresholds == pytest.approx((0.365, 0.415, 0.35))
    assert score.train_accuracies == pytest.approx((0.75, 0.875, 0.875))
    assert score.fold_accuracies == pytest.approx((1.0, 0.5, 0.75))
    assert score.accuracy_mean == pytest.approx(0.75)
    assert score.accuracy_std == pytest.approx(0.25)  # sample std: sqrt((0.25^2 + 0.25^2 + 0) / 2)
    assert score.accuracy_stderr == pytest.approx(0.25 / np.sqrt(3))
    assert score.threshold_mean == pytest.approx((0.365 + 0.415 + 0.35) / 3)
    assert score.protocol == "k-fold" and "other 2 folds" in score.description
    with pytest.raises(ValueError, match="two folds"):
        k_fold(D6, S6, [0] * 6)


def test_train_test_and_fixed_threshold_never_choose_on_the_scored_pairs():
    # train: folds 1+2 -> 0.365 (as above); test: fold 0
    score = train_test(FOLD_D[4:], FOLD_S[4:], FOLD_D[:4], FOLD_S[:4])
    assert score.thresholds == pytest.approx((0.365,)) and score.fold_accuracies == (1.0,)
    assert score.accuracy_std == 0.0 and score.protocol == "train-test"
    fixed = fixed_threshold(D6, S6, 0.45, provisional=True)
    assert fixed.fold_accuracies == pytest.approx((5 / 6,)) and fixed.provisional
    assert fixed.train_accuracies is None and "provisional" in fixed.description


# ------------------------------------------------------------------------------------------------
# results and charts
# ------------------------------------------------------------------------------------------------
def _result(distance="euclidean", encoder="dlib") -> DistanceResult:
    d = np.array(FOLD_D)
    return DistanceResult(encoder, distance, k_fold(d, FOLD_S, FOLDS), d, np.array(FOLD_S, dtype=bool),
                          np.array(FOLDS))


def test_distance_result_json_has_the_issue_keys():
    out = _result().to_json()
    for key in ("accuracy_mean", "accuracy_std", "thresholds", "threshold_mean", "auc", "eer", "tar_at_far",
                "n_pairs", "n_folds", "protocol", "curves_protocol", "histogram"):
        assert key in out
    assert out["accuracy_mean"] == 0.75 and out["n_pairs"] == 12 and out["n_folds"] == 3
    assert set(out["tar_at_far"]) == {"0.001", "0.01"}
    assert sum(out["histogram"]["matched"]) == 6 and sum(out["histogram"]["mismatched"]) == 6
    json.dumps(out)


def _axes():
    fig = Figure()
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def test_accuracy_chart_marks_the_chosen_threshold():
    fig, ax = _axes()
    results = [_result("euclidean"), _result("cosine")]
    artists = draw_accuracy(ax, results)
    assert set(artists.lines) == {"euclidean", "cosine"}
    line = artists.lines["euclidean"]
    assert np.array_equal(line.get_xdata(), results[0].points.thresholds)
    assert np.array_equal(line.get_ydata(), results[0].points.accuracy)
    mark = artists.thresholds["euclidean"]
    assert list(mark.get_xdata()) == [results[0].threshold] * 2
    move_threshold_line(mark, 0.5)
    assert list(mark.get_xdata()) == [0.5, 0.5]
    fig.canvas.draw()


def test_roc_chart_and_labels_with_several_encoders():
    fig, ax = _axes()
    artists = draw_roc(ax, [_result(encoder="dlib"), _result(encoder="resnet")], log_fpr=False)
    assert set(artists.lines) == {"dlib · euclidean", "resnet · euclidean"}
    fpr, tpr, _ = roc_curve(FOLD_D, FOLD_S)
    line = artists.lines["dlib · euclidean"]
    assert np.array_equal(line.get_xdata(), fpr) and np.array_equal(line.get_ydata(), tpr)
    fig2, ax2 = _axes()
    logged = draw_roc(ax2, [_result()]).lines["euclidean"]
    assert ax2.get_xscale() == "log" and np.all(np.asarray(logged.get_xdata()) > 0)
    fig.canvas.draw()
    fig2.canvas.draw()


def test_histogram_chart_bars_threshold_and_value():
    fig, ax = _axes()
    artists = draw_histograms(ax, [0, 0.5, 1.0], [3, 1], [0, 4], threshold=0.6, value=0.3, density=False)
    assert [p.get_height() for p in artists.markers["matched"].patches] == [3, 1]
    assert [p.get_height() for p in artists.markers["mismatched"].patches] == [0, 4]
    assert list(artists.thresholds["threshold"].get_xdata()) == [0.6, 0.6]
    assert list(artists.markers["value"].get_xdata()) == [0.3, 0.3]
    result = _result()
    fig2, ax2 = _axes()
    drawn = draw_result_histograms(ax2, result, bins=4)
    heights = [p.get_height() * p.get_width() for p in drawn.markers["matched"].patches]
    assert sum(heights) == pytest.approx(1.0)  # density: unit area
    assert list(drawn.thresholds["threshold"].get_xdata()) == [result.threshold] * 2
    fig.canvas.draw()
    fig2.canvas.draw()


def test_calibrated_thresholds_and_reference_histograms_say_how_they_were_made():
    table = json.loads(resources.files("facereid_engine").joinpath("data/thresholds.json").read_text())
    for distance, entry in table["thresholds"]["dlib"].items():
        value, provisional = default_threshold("dlib", distance)
        assert value == entry["value"] and provisional == entry.get("provisional", False)
        if not provisional:
            assert entry["source"]
    ref = reference_histogram("dlib", "euclidean")
    if ref is not None:
        assert len(ref.edges) == len(ref.matched) + 1 == len(ref.mismatched) + 1
        assert ref.matched.sum() == 3000 == ref.mismatched.sum()  # LFW pairs.txt
        low_m, low_x = ref.fraction_below(default_threshold("dlib", "euclidean")[0])
        assert low_m > 0.9 and low_x < 0.1  # most matched LFW pairs fall below the threshold, few mismatched
