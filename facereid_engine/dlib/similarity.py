"""dlib's ``find_similarity_transform`` with its 2x2 SVD written out, for speed, bit for bit.

The shape predictor fits one similarity transform per face and cascade, the face chip one per
face; dlib solves each with ``svd4`` on a 2x2 covariance. ``svd2x2`` is :func:`dlib_geometry.svd3`
with every loop of size two unrolled into straight-line code: the same floating-point operations
in the same order, so the same doubles (including signed zeros), at a fraction of the Python
overhead. :class:`SimilarityFit` also computes the fixed side's means and spread only once.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Sequence

from .geometry import Affine, Point

_EPS = sys.float_info.epsilon
_TOL = sys.float_info.min / _EPS
_sqrt = math.sqrt

Svd2 = tuple[float, float, float, float, float, float, float, float, float, float]


def svd2x2(a00: float, a01: float, a10: float, a11: float) -> Svd2:
    """``svd3`` of ``[[a00, a01], [a10, a11]]``: ``(u00, u01, u10, u11, w0, w1, v00, v01, v10, v11)``."""
    # Householder bidiagonalisation (svd4's first loop, i = 0 then i = 1)
    u00, u01, u10, u11 = a00, a01, a10, a11
    e1 = 0.0
    s = (0.0 + u00 * u00) + u10 * u10
    if s < _TOL:
        g = 0.0
    else:
        f = u00
        g = _sqrt(s) if f < 0 else -_sqrt(s)
        h = f * g - s
        u00 = f - g
        s = (0.0 + u00 * u01) + u10 * u11
        f = s / h
        u01 += f * u00
        u11 += f * u10
    q0 = g
    s = 0.0 + u01 * u01
    if s < _TOL:
        g = 0.0
    else:
        f = u01
        g = _sqrt(s) if f < 0 else -_sqrt(s)
        h = f * g - s
        u01 = f - g
        e1 = u01 / h
        s = 0.0 + u11 * u01
        u11 += s * e1
    x = abs(q0) + 0.0  # abs(q[0]) + abs(e[0]), e[0] == 0
    if not x > 0.0:
        x = 0.0
    e1 = g
    s = 0.0 + u11 * u11
    if s < _TOL:
        g = 0.0
    else:
        f = u11
        g = _sqrt(s) if f < 0 else -_sqrt(s)
        u11 = f - g
    q1 = g
    y = abs(q1) + abs(e1)
    if y > x:
        x = y
    # accumulation of the right-hand transformation (v) ...
    v00, v01, v10, v11 = 1.0, 0.0, 0.0, 1.0
    if e1 != 0.0:
        h = u01 * e1
        v10 = u01 / h
        s = 0.0 + u01 * v11
        v11 += s * v10
        v10 = 0.0
    # ... and of the left-hand one (in u)
    if q1 != 0.0:
        u11 /= q1
    else:
        u11 = 0.0
    u11 += 1.0
    u01 = 0.0
    if q0 != 0.0:
        h = u00 * q0
        s = 0.0 + u10 * u11
        f = s / h
        u01 += f * u00
        u11 += f * u10
        u00 /= q0
        u10 /= q0
    else:
        u00 = u10 = 0.0
    u00 += 1.0
    # diagonalisation of the bidiagonal form [[q0, e1], [0, q1]] (k = 1; k = 0 needs no step)
    eps = _EPS * x
    e0 = 0.0
    iterations = 0
    while True:
        if abs(e1) <= eps:
            z = q1
            break
        if abs(q0) <= eps:  # cancellation of e1
            f = e1
            e1 *= 0.0
            if not abs(f) <= eps:
                g = q1
                h = q1 = _sqrt(f * f + g * g)
                c = g / h
                s = -f / h
                u00, u01 = u00 * c + u01 * s, -u00 * s + u01 * c
                u10, u11 = u10 * c + u11 * s, -u10 * s + u11 * c
            z = q1
            break
        z = q1
        iterations += 1
        if iterations > 300:
            raise ArithmeticError("dlib svd did not converge")
        x = q0
        y = q0
        g = e0
        h = e1
        f = ((y - z) * (y + z) + (g - h) * (g + h)) / (2 * h * y)
        g = _sqrt(f * f + 1.0)
        f = ((x - z) * (x + z) + h * (y / ((f - g) if f < 0 else (f + g)) - h)) / x
        g = e1
        y = q1
        h = g  # s * g with s == 1.0
        g *= 1.0
        e0 = z = _sqrt(f * f + h * h)
        c = f / z
        s = h / z
        f = x * c + g * s
        g = -x * s + g * c
        h = y * s
        y *= c
        v00, v01 = v00 * c + v01 * s, -v00 * s + v01 * c
        v10, v11 = v10 * c + v11 * s, -v10 * s + v11 * c
        q0 = z = _sqrt(f * f + h * h)
        if z != 0:
            c = f / z
            s = h / z
        f = c * g + s * y
        x = -s * g + c * y
        u00, u01 = u00 * c + u01 * s, -u00 * s + u01 * c
        u10, u11 = u10 * c + u11 * s, -u10 * s + u11 * c
        e0 = 0.0
        e1 = f
        q1 = x
    if z < 0.0:
        q1 = -z
        v01 = -v01
        v11 = -v11
    if q0 < 0.0:
        q0 = -q0
        v00 = -v00
        v10 = -v10
    return u00, u01, u10, u11, q0, q1, v00, v01, v10, v11


class SimilarityFit:
    """dlib's ``find_similarity_transform`` from fixed points ``from_points`` to points given later."""

    def __init__(self, from_points: Sequence[Point]):
        pts = [(float(x), float(y)) for x, y in from_points]
        n = len(pts)
        mfx = mfy = 0.0
        for fx, fy in pts:
            mfx += fx
            mfy += fy
        mfx /= n
        mfy /= n
        sigma = 0.0
        for fx, fy in pts:
            dfx, dfy = fx - mfx, fy - mfy
            sigma += dfx * dfx + dfy * dfy
        sigma /= n
        self.n = n
        self._mean = (mfx, mfy)
        self._dfx = [fx - mfx for fx, _ in pts]
        self._dfy = [fy - mfy for _, fy in pts]
        self._sigma_from = sigma
        self._inv_n = 1.0 / n  # dlib's matrix /= scalar multiplies by the reciprocal

    def __call__(self, xs: Sequence[float], ys: Sequence[float]) -> Affine:
        """The transform to the points ``(xs[i], ys[i])`` (Python floats)."""
        n = self.n
        mtx = mty = 0.0
        for tx in xs:
            mtx += tx
        for ty in ys:
            mty += ty
        mtx /= n
        mty /= n
        c00 = c01 = c10 = c11 = 0.0
        for tx, ty, dfx, dfy in zip(xs, ys, self._dfx, self._dfy):
            dtx = tx - mtx
            dty = ty - mty
            c00 += dtx * dfx
            c01 += dtx * dfy
            c10 += dty * dfx
            c11 += dty * dfy
        inv_n = self._inv_n
        c00 *= inv_n
        c01 *= inv_n
        c10 *= inv_n
        c11 *= inv_n
        u00, u01, u10, u11, d0, d1, v00, v01, v10, v11 = svd2x2(c00, c01, c10, c11)
        s0 = s1 = 1.0
        det_cov = c00 * c11 - c01 * c10
        if det_cov < 0 or (det_cov == 0 and (u00 * u11 - u01 * u10) * (v00 * v11 - v01 * v10) < 0):
            if d1 < d0:
                s1 = -1.0
            else:
                s0 = -1.0
        us00, us01 = u00 * s0 + u01 * 0.0, u00 * 0.0 + u01 * s1
        us10, us11 = u10 * s0 + u11 * 0.0, u10 * 0.0 + u11 * s1
        r00 = us00 * v00 + us01 * v01
        r01 = us00 * v10 + us01 * v11
        r10 = us10 * v00 + us11 * v01
        r11 = us10 * v10 + us11 * v11
        c = 1.0
        if self._sigma_from != 0:
            c = 1.0 / self._sigma_from * ((0.0 + d0 * s0) + d1 * s1)
        mfx, mfy = self._mean
        t0 = mtx - (r00 * mfx + r01 * mfy) * c
        t1 = mty - (r10 * mfx + r11 * mfy) * c
        return (r00 * c, r01 * c, r10 * c, r11 * c), (t0, t1)


def find_similarity_transform(from_points: Sequence[Point], to_points: Sequence[Point]) -> Affine:
    """dlib's ``find_similarity_transform`` (Umeyama), with dlib's evaluation order."""
    return SimilarityFit(from_points)([float(x) for x, _ in to_points], [float(y) for _, y in to_points])
