"""Grouping at archive scale, scaled down: the two-level neighbour search (used above 120,000 faces)
forced on 12,000 synthetic faces finds the same-person neighbours and groups as well as the one-level
search. The million-face figures are measured by ``benchmarks/bench_grouping_scale.py``."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from facereid_engine.clustering import GroupSettings, group_faces
from facereid_engine.clustering.knn import _cells, _merge, knn, knn_query
from facereid_engine.clustering.quality import bcubed
from facereid_engine.clustering.synthetic import synthetic_faces

knn_module = importlib.import_module("facereid_engine.clustering.knn")   # the package exports the function knn

N, PEOPLE = 12_000, 240                       # the benchmark's density: 50 faces a person


@pytest.fixture(scope="module")
def faces():
    return synthetic_faces(N, PEOPLE, seed=3)


def _same_person_found(idx, truth, k):
    sizes = np.bincount(truth)[truth]
    return ((truth[np.maximum(idx, 0)] == truth[:, None]) & (idx >= 0)).sum() / np.minimum(k, sizes - 1).sum()


def test_two_level_cells_cover_every_point_with_about_cell_size_points(faces):
    x, _ = faces
    cent, cell = _cells(x, seed=0, two_level_limit=1000)
    assert cell.min() >= 0 and cell.max() < len(cent)
    assert len(cent) == pytest.approx(N / knn_module.CELL_SIZE, rel=0.1)


def test_two_level_search_finds_the_same_person_neighbours(faces):
    x, truth = faces
    one = knn(x, 16, exact_limit=1000)
    two = knn(x, 16, exact_limit=1000, two_level_limit=1000)
    assert _same_person_found(two[0], truth, 16) >= 0.97
    assert _same_person_found(two[0], truth, 16) >= _same_person_found(one[0], truth, 16) - 0.02
    rows = np.arange(0, N, 97)
    exact, exact_d = knn_query(x[rows], x, 17)
    assert (two[1][rows, 0] >= exact_d[:, 1] - 1e-5).all()        # never nearer than the true nearest
    assert np.all(np.diff(two[1], axis=1) >= 0)                   # sorted, as knn promises
    assert not (two[0] == np.arange(N)[:, None]).any()             # never itself


def test_merge_keeps_the_nearest_once():
    idx = np.array([[3, 5, -1, 5, 7, 3]])
    dist = np.array([[0.3, 0.5, np.inf, 0.5, 0.1, 0.3]], np.float32)
    i, d = _merge(idx, dist, 4)
    assert i.tolist() == [[7, 3, 5, -1]] and d[0, :3].tolist() == pytest.approx([0.1, 0.3, 0.5])


def test_grouping_with_the_two_level_search_is_as_good(faces, monkeypatch):
    x, truth = faces
    settings = GroupSettings()
    defaults = (1000, 0, knn_module.PROBE, knn_module.MIN_CANDIDATES)   # exact_limit, seed, ...
    monkeypatch.setattr(knn, "__defaults__", defaults + (knn_module.TWO_LEVEL_LIMIT,))
    base = bcubed(group_faces(x, settings=settings), truth)[2]
    monkeypatch.setattr(knn, "__defaults__", defaults + (1000,))               # ... two_level_limit
    two = bcubed(group_faces(x, settings=settings), truth)[2]
    assert two >= base - 0.005 and two > 0.99


def test_linkage_in_worker_processes_equals_one_process(faces, monkeypatch):
    """Parts of the graph agglomerated in two worker processes: the very same clusters and cut,
    with faces of one photo kept apart, anchors, and the adaptive pair cut. (Which face's id a
    cluster keeps may differ where two linkages tie to the last bit: :func:`group_faces` numbers
    its albums by their first face, so its result is the same.)"""
    from facereid_engine.clustering import parallel
    from facereid_engine.clustering.linkage import MergeRules, agglomerate
    x, _ = faces
    x = x[:4000]
    s = GroupSettings()
    idx, dist = knn(x, s.neighbours)
    rows = np.repeat(np.arange(len(x)), idx.shape[1])
    keep = (idx.ravel() >= 0) & (dist.ravel() <= 2 * s.threshold)
    edges = np.stack([rows[keep], idx.ravel()[keep]], 1)
    labels = np.arange(len(x))
    labels[[5, 9, 77]] = 0                              # the user filed three faces under one person
    labels = np.unique(labels, return_inverse=True)[1]
    anchor = np.full(labels.max() + 1, -1)
    anchor[0] = 0
    cannot = np.stack([np.arange(0, 4000, 2), np.arange(1, 4000, 2)], 1)   # two faces a photo
    rules = MergeRules(s.threshold, s.pair_threshold, s.tight_threshold, s.spread_ratio, s.spread_min)
    one, cut_one = agglomerate(x, edges, labels, anchor, rules, cannot)
    monkeypatch.setattr(parallel, "PARALLEL_MIN", 0)
    two, cut_two = parallel.agglomerate_parallel(x, edges, labels, anchor, rules, cannot, workers=2)
    assert partition(one) == partition(two) and cut_one == cut_two
    assert (two[[5, 9, 77]] == 0).all()                       # the user's person keeps its id
    assert len(np.unique(one)) < len(x) // 10                 # it did group


def partition(labels):
    return {frozenset(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)}


def test_components_are_connected_parts():
    from facereid_engine.clustering.parallel import components
    comp = components(7, np.array([0, 1, 4, 6]), np.array([1, 2, 5, 4]))
    assert comp.tolist() == [0, 0, 0, 3, 4, 4, 4]


def test_cell_search_of_queries_finds_their_nearest(faces):
    from facereid_engine.clustering.knn import knn_search
    x, _ = faces
    q, pts = x[:300], x[300:]
    approx, d = knn_search(q, pts, 8, exact_pairs=0)
    exact, ed = knn_query(q, pts, 8)
    assert np.mean(approx[:, 0] == exact[:, 0]) >= 0.95
    assert (d[:, 0] >= ed[:, 0] - 1e-5).all()
