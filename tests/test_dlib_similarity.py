"""The unrolled 2x2 SVD and the similarity fit against the general port of dlib's svd4, bit for bit."""
from __future__ import annotations

import math
import random
import struct

import pytest

from facereid_engine.dlib.geometry import svd3
from facereid_engine.dlib.similarity import SimilarityFit, find_similarity_transform, svd2x2


def _bits(values) -> bytes:
    return struct.pack(f"{len(values)}d", *values)  # tells -0.0 from 0.0


def _matrices(n: int):
    rng = random.Random(11)
    special = [0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e-300, -1e-300, 5e-324, 1e300, 1 + 2 ** -52]
    for _ in range(n):
        m = []
        for _ in range(4):
            k = rng.random()
            m.append(rng.choice(special) if k < 0.2 else float(rng.randint(-3, 3)) if k < 0.35
                     else rng.gauss(0, 1) * 10 ** rng.uniform(-150, 150) if k < 0.5 else rng.gauss(0, 1))
        if rng.random() < 0.1 and abs(m[1]) > 1e-200:
            m[3] = m[0] * m[2] / m[1]  # (nearly) rank one
        yield m


def test_svd2x2_is_svd3_bit_for_bit():
    n = failed = 0
    for a00, a01, a10, a11 in _matrices(20000):
        try:
            u, w, v = svd3([[a00, a01], [a10, a11]])
        except ArithmeticError:  # overflowing values: dlib's loop would not converge either
            with pytest.raises(ArithmeticError):
                svd2x2(a00, a01, a10, a11)
            failed += 1
            continue
        want = [u[0][0], u[0][1], u[1][0], u[1][1], w[0], w[1], v[0][0], v[0][1], v[1][0], v[1][1]]
        assert _bits(svd2x2(a00, a01, a10, a11)) == _bits(want), (a00, a01, a10, a11)
        n += 1
    assert n > 19000 and failed > 0


def _reference_fit(from_points, to_points):
    """dlib's find_similarity_transform written with the general svd3, loop for loop."""
    n = len(from_points)
    mf = [sum((p[k] for p in from_points), 0.0) / n for k in (0, 1)]
    mt = [sum((p[k] for p in to_points), 0.0) / n for k in (0, 1)]
    sigma = 0.0
    cov = [[0.0, 0.0], [0.0, 0.0]]
    for f, t in zip(from_points, to_points):
        df = (f[0] - mf[0], f[1] - mf[1])
        dt = (t[0] - mt[0], t[1] - mt[1])
        sigma += df[0] * df[0] + df[1] * df[1]
        for i in range(2):
            for j in range(2):
                cov[i][j] += dt[i] * df[j]
    sigma /= n
    cov = [[x * (1.0 / n) for x in row] for row in cov]
    u, d, v = svd3(cov)
    s = [1.0, 1.0]
    det = cov[0][0] * cov[1][1] - cov[0][1] * cov[1][0]
    det_u, det_v = u[0][0] * u[1][1] - u[0][1] * u[1][0], v[0][0] * v[1][1] - v[0][1] * v[1][0]
    if det < 0 or (det == 0 and det_u * det_v < 0):
        s[1 if d[1] < d[0] else 0] = -1.0
    us = [[u[i][0] * s[0] + u[i][1] * 0.0, u[i][0] * 0.0 + u[i][1] * s[1]] for i in range(2)]
    r = [[us[i][0] * v[j][0] + us[i][1] * v[j][1] for j in range(2)] for i in range(2)]
    c = 1.0 / sigma * ((0.0 + d[0] * s[0]) + d[1] * s[1]) if sigma != 0 else 1.0
    t = [mt[i] - (r[i][0] * mf[0] + r[i][1] * mf[1]) * c for i in range(2)]
    return [r[0][0] * c, r[0][1] * c, r[1][0] * c, r[1][1] * c, *t]


@pytest.mark.parametrize("case", ["rotated", "mirrored", "collinear", "one_point", "integers"])
def test_similarity_fit_matches_the_general_solver(case):
    rng = random.Random(case)
    for _ in range(300):
        src = [(rng.gauss(0, 1), rng.gauss(0, 1)) for _ in range(5)]
        a, scale = rng.uniform(-math.pi, math.pi), 10 ** rng.uniform(-2, 3)
        dst = [(scale * (math.cos(a) * x - math.sin(a) * y) + rng.gauss(0, scale / 10) + 40,
                scale * (math.sin(a) * x + math.cos(a) * y) + rng.gauss(0, scale / 10) - 7) for x, y in src]
        if case == "mirrored":
            dst = [(-x, y) for x, y in dst]
        elif case == "collinear":
            dst = [(x, 2 * x) for x, _ in dst]
        elif case == "one_point":
            dst = [dst[0]] * 5
        elif case == "integers":
            dst = [(float(round(x)), float(round(y))) for x, y in dst]
        m, t = find_similarity_transform(src, dst)
        assert _bits([*m, *t]) == _bits(_reference_fit(src, dst))
        fit = SimilarityFit(src)
        assert _bits([*fit([x for x, _ in dst], [y for _, y in dst])[0]]) == _bits(list(m))
