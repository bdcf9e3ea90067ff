"""Constrained clustering: hard constraints, quality gates, order independence, the neighbour search."""
from __future__ import annotations

import numpy as np
import pytest

from facereid_engine.clustering import GroupSettings, attach, group_faces, suggest_merges
from facereid_engine.clustering.knn import knn, knn_query
from facereid_engine.clustering.linkage import Clusters, MergeRules, agglomerate
from facereid_engine.clustering.quality import bcubed
from facereid_engine.clustering.synthetic import synthetic_faces
from facereid_engine.thresholds import default_threshold

S = GroupSettings()


def blob(rng, centre, n, spread=0.3):
    """n points around ``centre`` whose pairwise distances are about ``spread``."""
    return centre + rng.normal(size=(n, len(centre))) * spread / np.sqrt(2 * len(centre))


@pytest.fixture(scope="module")
def two_people():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=128) * 0.06, rng.normal(size=128) * 0.06   # centres ~0.95 apart
    x = np.concatenate([blob(rng, a, 10), blob(rng, b, 10)]).astype(np.float32)
    return x, np.repeat([0, 1], 10)


def partition(labels):
    return {frozenset(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels[labels >= 0])}


def test_linkage_is_the_mean_squared_distance_over_all_pairs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5))
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    c = Clusters.of(x, labels, 2, np.array([-1, -1]))
    pairs = [np.sum((x[i] - x[j]) ** 2) for i in range(3) for j in range(3, 7)]
    assert c.linkage(np.array([0]), np.array([1]))[0] == pytest.approx(np.mean(pairs), rel=1e-12)
    assert c.linkage_one(0, np.array([1]))[0] == pytest.approx(np.mean(pairs), rel=1e-12)
    assert c.linkage_to(x[:1], np.array([1]))[0] == pytest.approx(np.mean(pairs[:4]), rel=1e-12)


def test_two_identities_become_two_clusters(two_people):
    x, truth = two_people
    labels = group_faces(x, settings=S)
    assert partition(labels) == partition(truth)


def test_faces_of_one_photo_are_never_one_person(two_people):
    x, _ = two_people
    photos = np.arange(len(x))
    photos[[0, 1]] = 100   # two faces of person 0 in one photo (a mirror, a poster)
    labels = group_faces(x, settings=S, photos=photos)
    assert labels[0] != labels[1] or labels[0] == -1
    assert (labels[2:10] == labels[2]).all()


def test_cannot_link_is_never_violated(two_people):
    x, _ = two_people
    cannot = np.array([[3, j] for j in range(10) if j != 3])
    labels = group_faces(x, settings=S, cannot=cannot)
    assert labels[3] == -1 or all(labels[3] != labels[j] for j in range(10) if j != 3)
    assert len(np.unique(labels[[j for j in range(10) if j != 3]])) == 1


def test_anchors_keep_their_id_and_two_anchors_never_merge(two_people):
    x, _ = two_people
    anchors = np.full(20, -1)
    anchors[[0, 1]] = 0          # the user confirmed faces 0 and 1 as person 0 ...
    anchors[[2]] = 1             # ... and face 2 (same identity!) as another person 1
    anchors[[10]] = 2
    labels = group_faces(x, settings=S, anchors=anchors)
    assert labels[0] == labels[1] == 0 and labels[2] == 1 and labels[10] == 2
    assert set(labels[11:20]) == {2}            # new faces join the named person when close enough
    assert set(labels[3:10]) <= {0, 1}          # and never form a third person beside the anchors


def test_poor_faces_do_not_seed_but_may_join(two_people):
    x, _ = two_people
    rng = np.random.default_rng(5)
    far = rng.normal(size=128) * 0.06
    stray = blob(rng, far, 3).astype(np.float32)      # three close faces of a third identity ...
    xs = np.concatenate([x, stray])
    seed = np.ones(len(xs), bool)
    seed[20:] = False                                 # ... all too small or blurred to seed
    seed[0] = False                                   # a poor face of person 0
    labels = group_faces(xs, settings=S, can_seed=seed)
    assert (labels[20:] == -1).all()
    assert labels[0] == labels[1] >= 0
    seed[20:] = True
    assert len(set(group_faces(xs, settings=S, can_seed=seed)[20:])) == 1


def test_result_does_not_depend_on_the_order():
    x, truth = synthetic_faces(600, 40, seed=3)
    photos = np.empty(600, np.int64)
    photos[np.argsort(truth, kind="stable")] = np.arange(600) % 300   # two people per photo
    assert all(len(set(truth[photos == p])) == 2 for p in range(300))
    labels = group_faces(x, settings=S, photos=photos)
    perm = np.random.default_rng(0).permutation(600)
    shuffled = group_faces(x[perm], settings=S, photos=photos[perm])
    back = np.empty_like(shuffled)
    back[perm] = shuffled
    assert partition(labels) == partition(back)
    assert bcubed(labels, truth)[2] > 0.97


def test_attach_respects_photos_and_threshold():
    rng = np.random.default_rng(2)
    c = rng.normal(size=16)
    x = np.stack([c, c + 0.01, c + 0.02, c + 0.015, c + 5]).astype(np.float32)
    labels = attach(x, np.array([0, 0, -1, -1, -1]), photos=np.array([0, 1, 2, 2, 3]), threshold=0.5)
    assert labels.tolist() == [0, 0, -1, 0, -1]      # the closer face of photo 2 joins; the far face stays out


def test_suggestions_skip_people_sharing_a_photo():
    rng = np.random.default_rng(4)
    c = rng.normal(size=128) * 0.06
    x = blob(rng, c, 8).astype(np.float32)
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    photos = np.arange(8)
    assert [s[:2] for s in suggest_merges(x, labels, photos, 0.6)] == [(0, 1)]
    photos[4] = 0
    assert suggest_merges(x, labels, photos, 0.6) == []


def test_agglomerate_stops_at_the_threshold():
    x = np.array([[0.0], [0.1], [1.0], [1.1]], np.float32)
    edges = np.array([[0, 1], [1, 2], [2, 3]])
    out, _ = agglomerate(x, edges, np.arange(4), np.full(4, -1), MergeRules(0.2, 0.2))
    assert partition(out) == {frozenset({0, 1}), frozenset({2, 3})}
    out, _ = agglomerate(x, edges, np.arange(4), np.full(4, -1), MergeRules(2.0, 2.0), cannot=np.array([[0, 3]]))
    assert 0 not in [i for part in partition(out) for i in part if 3 in part]


def test_pair_cut_tightens_with_the_number_of_groups():
    assert S.pair_threshold(10) == S.pair_threshold(500) == S.threshold
    assert S.pair_threshold(6300) == S.pair_threshold(10**6) == S.tight_threshold
    assert S.threshold > S.pair_threshold(2000) > S.tight_threshold
    x = np.array([[0.0], [0.3], [0.6], [5.0], [5.05]], np.float32)       # 0-1-2 at 0.3, 0.6 apart
    edges = np.array([[0, 1], [1, 2], [0, 2], [3, 4]])
    loose = MergeRules(0.5, lambda groups: 0.5 if groups <= 4 else 0.2, count_at=0.1)   # 4 groups at 0.1
    out, cut = agglomerate(x, edges, np.arange(5), np.full(5, -1), loose)
    assert cut == 0.5 and partition(out) == {frozenset({0, 1, 2}), frozenset({3, 4})}
    tight = MergeRules(0.5, lambda groups: 0.5 if groups <= 3 else 0.2, count_at=0.1)
    out, cut = agglomerate(x, edges, np.arange(5), np.full(5, -1), tight)
    assert cut == 0.2 and partition(out) == {frozenset({3, 4})} | {frozenset({i}) for i in range(3)}


def test_cell_search_finds_the_near_neighbours():
    x, _ = synthetic_faces(6000, 150, seed=7)
    idx, dist = knn(x, 8, exact_limit=1000)           # forces the k-means cell search
    sub = np.arange(0, 6000, 12)
    exact, exact_d = knn_query(x[sub], x, 9)
    exact, exact_d = exact[:, 1:], exact_d[:, 1:]      # drop the point itself
    recall = np.mean([len(set(a) & set(b)) / 8 for a, b in zip(idx[sub], exact)])
    assert recall > 0.95
    assert np.all(dist[sub] >= exact_d - 1e-4)         # never closer than the true neighbours
    assert np.all(np.diff(dist, axis=1) >= 0)


def test_bcubed_known_values():
    assert bcubed(np.array([0, 0, 1, 1]), np.array([5, 5, 6, 6])) == (1.0, 1.0, 1.0)
    p, r, f = bcubed(np.array([0, 0, 0, 0]), np.array([5, 5, 6, 6]))
    assert (p, r) == (0.5, 1.0) and f == pytest.approx(2 / 3)
    p, r, _ = bcubed(np.array([-1, -1, 3, 3]), np.array([5, 5, 6, 6]))
    assert (p, r) == (1.0, 0.75)


def test_settings_for_other_encoders_scale_and_validate():
    dlib = GroupSettings.for_encoder("dlib")
    assert dlib == GroupSettings()
    assert GroupSettings.for_encoder("dlib", min_face_size=80).min_face_size == 80
    fused = GroupSettings.for_encoder("fused")  # scaled by its threshold, its tight cut measured for it
    assert fused.threshold == pytest.approx(dlib.threshold * default_threshold("fused", "euclidean")[0] / 0.6)
    assert dlib.tight_threshold < fused.tight_threshold < fused.threshold
    assert GroupSettings.for_encoder("fused", tight_threshold=0.5).tight_threshold == 0.5  # the user's word wins
    from facereid_engine.errors import FaceReIDError
    with pytest.raises(FaceReIDError, match="unknown group setting"):
        GroupSettings.for_encoder("dlib", treshold=0.5)
    with pytest.raises(FaceReIDError, match="positive"):
        GroupSettings(threshold=0)
