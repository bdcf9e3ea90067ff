import numpy as np
import pytest

from facereid_engine import distances as D
from facereid_engine.errors import UnknownNameError


def test_names_and_aliases():
    assert D.canonical_distance("euclidean-l2") == "euclidean_l2"
    assert D.canonical_distance("Cosine") == "cosine"
    with pytest.raises(UnknownNameError, match="manhattan"):
        D.canonical_distance("manhattan")


def test_hand_computed_values():
    a, b = np.array([3.0, 0.0]), np.array([0.0, 4.0])
    assert D.distance(a, b, "euclidean") == pytest.approx(5.0)
    assert D.distance(a, b, "euclidean_l2") == pytest.approx(np.sqrt(2.0))
    assert D.distance(a, b, "cosine") == pytest.approx(1.0)
    c = np.array([6.0, 0.0])  # same direction as a, twice as long
    assert D.distance(a, c, "euclidean") == pytest.approx(3.0)
    assert D.distance(a, c, "euclidean_l2") == pytest.approx(0.0)
    assert D.distance(a, c, "cosine") == pytest.approx(0.0)


@pytest.mark.parametrize("name", D.DISTANCES)
def test_matrix_agrees_with_pairs(name):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 128)), rng.normal(size=(5, 128))
    m = D.matrix(a, b, name)
    assert m.shape == (7, 5)
    expected = np.array([[D.distance(x, y, name) for y in b] for x in a])
    np.testing.assert_allclose(m, expected, atol=1e-9)
    np.testing.assert_allclose(D.paired(a[:5], b, name), np.diag(expected[:5]), atol=1e-12)
    self_m = D.matrix(a, name=name)
    np.testing.assert_allclose(np.diag(self_m), 0.0, atol=1e-6)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes differ"):
        D.paired(np.zeros((2, 3)), np.zeros((3, 3)))
