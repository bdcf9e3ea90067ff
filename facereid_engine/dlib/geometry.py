"""dlib's small geometric solvers, reproduced operation for operation.

The shape predictor and the face chip both fit transforms with dlib's own SVD (``svd4`` in
dlib/matrix/matrix_la.h, behind ``svd3``, ``svd`` and ``pinv`` when dlib is built without LAPACK,
as the dlib-bin wheels are). The last bits of those transforms decide how pixel positions round
and how interpolated pixel values truncate, so this module repeats dlib's arithmetic in the same
order, in plain Python floats (IEEE doubles, like dlib's compiled code, which has no FMA).
Matrices are lists of rows; points are ``(x, y)`` tuples of floats. The 2x2 similarity fits use
the unrolled copy of ``svd3`` in :mod:`dlib_similarity`.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Sequence

EPS = sys.float_info.epsilon
Matrix = list[list[float]]
Point = tuple[float, float]
Affine = tuple[tuple[float, float, float, float], tuple[float, float]]  # ((m00, m01, m10, m11), (b0, b1))


def _bidiagonalize(u: Matrix, m: int, n: int) -> tuple[list[float], list[float], float, float]:
    """svd4's Householder reduction of ``u`` (in place) to bidiagonal form ``q``, ``e``."""
    tol = sys.float_info.min / EPS
    e = [0.0] * n
    q = [0.0] * n
    g = x = 0.0
    for i in range(n):
        e[i] = g
        s = 0.0
        l = i + 1
        for j in range(i, m):
            s += u[j][i] * u[j][i]
        if s < tol:
            g = 0.0
        else:
            f = u[i][i]
            g = math.sqrt(s) if f < 0 else -math.sqrt(s)
            h = f * g - s
            u[i][i] = f - g
            for j in range(l, n):
                s = 0.0
                for k in range(i, m):
                    s += u[k][i] * u[k][j]
                f = s / h
                for k in range(i, m):
                    u[k][j] += f * u[k][i]
        q[i] = g
        s = 0.0
        for j in range(l, n):
            s += u[i][j] * u[i][j]
        if s < tol:
            g = 0.0
        else:
            f = u[i][i + 1]
            g = math.sqrt(s) if f < 0 else -math.sqrt(s)
            h = f * g - s
            u[i][i + 1] = f - g
            for j in range(l, n):
                e[j] = u[i][j] / h
            for j in range(l, m):
                s = 0.0
                for k in range(l, n):
                    s += u[j][k] * u[i][k]
                for k in range(l, n):
                    u[j][k] += s * e[k]
        y = abs(q[i]) + abs(e[i])
        if y > x:
            x = y
    return q, e, g, x


def _accumulate(u: Matrix, m: int, n: int, q: list[float], e: list[float], g: float) -> Matrix:
    """svd4's accumulation of the right-hand (returned) and left-hand (in ``u``) transformations."""
    v = [[0.0] * n for _ in range(n)]
    l = n
    for i in range(n - 1, -1, -1):
        if g != 0.0:
            h = u[i][i + 1] * g
            for j in range(l, n):
                v[j][i] = u[i][j] / h
            for j in range(l, n):
                s = 0.0
                for k in range(l, n):
                    s += u[i][k] * v[k][j]
                for k in range(l, n):
                    v[k][j] += s * v[k][i]
        for j in range(l, n):
            v[i][j] = v[j][i] = 0.0
        v[i][i] = 1.0
        g = e[i]
        l = i
    for i in range(n - 1, -1, -1):
        l = i + 1
        g = q[i]
        for j in range(l, n):
            u[i][j] = 0.0
        if g != 0.0:
            h = u[i][i] * g
            for j in range(l, n):
                s = 0.0
                for k in range(l, m):
                    s += u[k][i] * u[k][j]
                f = s / h
                for k in range(i, m):
                    u[k][j] += f * u[k][i]
            for j in range(i, m):
                u[j][i] /= g
        else:
            for j in range(i, m):
                u[j][i] = 0.0
        u[i][i] += 1.0
    return v


def _rotate(rows: Matrix, p: int, r: int, c: float, s: float) -> None:
    for row in rows:
        y, z = row[p], row[r]
        row[p] = y * c + z * s
        row[r] = -y * s + z * c


def svd3(matrix: Sequence[Sequence[float]]) -> tuple[Matrix, list[float], Matrix]:
    """dlib's ``svd3`` (``svd4`` with a skinny u, no LAPACK): ``matrix == u * diag(w) * trans(v)``.

    Needs rows >= columns; singular values come unsorted, as dlib returns them.
    """
    u = [[float(x) for x in row] for row in matrix]
    m, n = len(u), len(u[0])
    if m < n:
        raise ValueError("svd3 port needs at least as many rows as columns")
    q, e, g, x = _bidiagonalize(u, m, n)
    v = _accumulate(u, m, n, q, e, g)
    eps = EPS * x
    for k in range(n - 1, -1, -1):
        iterations = 0
        while True:
            l = k
            cancel = False
            while l >= 0:
                if abs(e[l]) <= eps:
                    break
                if abs(q[l - 1]) <= eps:
                    cancel = True
                    break
                l -= 1
            if cancel:
                c, s, l1 = 0.0, 1.0, l - 1
                for i in range(l, k + 1):
                    f = s * e[i]
                    e[i] *= c
                    if abs(f) <= eps:
                        break
                    g = q[i]
                    h = q[i] = math.sqrt(f * f + g * g)
                    c = g / h
                    s = -f / h
                    _rotate(u, l1, i, c, s)
            z = q[k]
            if l == k:
                break
            iterations += 1
            if iterations > 300:
                raise ArithmeticError("dlib svd did not converge")
            x = q[l]
            y = q[k - 1]
            g = e[k - 1]
            h = e[k]
            f = ((y - z) * (y + z) + (g - h) * (g + h)) / (2 * h * y)
            g = math.sqrt(f * f + 1.0)
            f = ((x - z) * (x + z) + h * (y / ((f - g) if f < 0 else (f + g)) - h)) / x
            c = s = 1.0
            for i in range(l + 1, k + 1):
                g = e[i]
                y = q[i]
                h = s * g
                g *= c
                e[i - 1] = z = math.sqrt(f * f + h * h)
                c = f / z
                s = h / z
                f = x * c + g * s
                g = -x * s + g * c
                h = y * s
                y *= c
                _rotate(v, i - 1, i, c, s)
                q[i - 1] = z = math.sqrt(f * f + h * h)
                if z != 0:
                    c = f / z
                    s = h / z
                f = c * g + s * y
                x = -s * g + c * y
                _rotate(u, i - 1, i, c, s)
            e[l] = 0.0
            e[k] = f
            q[k] = x
        if z < 0.0:
            q[k] = -z
            for row in v:
                row[k] = -row[k]
    return u, q, v


def _matmul(lhs: Sequence[Sequence[float]], rhs: Sequence[Sequence[float]]) -> Matrix:
    """dlib's matrix product: each element summed left to right."""
    out = []
    for row in lhs:
        out_row = []
        for j in range(len(rhs[0])):
            acc = row[0] * rhs[0][j]
            for k in range(1, len(rhs)):
                acc += row[k] * rhs[k][j]
            out_row.append(acc)
        out.append(out_row)
    return out


def _transpose(m: Sequence[Sequence[float]]) -> Matrix:
    return [list(col) for col in zip(*m)]


def pinv(matrix: Sequence[Sequence[float]]) -> Matrix:
    """dlib's ``pinv`` (pseudo-inverse through ``svd3``)."""
    if len(matrix[0]) > len(matrix):
        return _transpose(pinv(_transpose(matrix)))
    u, w, v = svd3(matrix)
    eps = EPS * max(len(matrix), len(matrix[0])) * max(w)
    inv_w = [1.0 / x if (x >= eps or x <= -eps) else 0.0 for x in w]
    scaled = [[row[k] * inv_w[k] for k in range(len(inv_w))] for row in v]
    return _matmul(scaled, _transpose(u))


def affine_from_pinv(pinv_p: Matrix, to_points: Sequence[Point]) -> Affine:
    """dlib's ``find_affine_transform`` (``Q * pinv(P)``), given ``pinv(P)`` of the fixed source points."""
    q = [[float(x) for x, _ in to_points], [float(y) for _, y in to_points]]
    m = _matmul(q, pinv_p)
    return (m[0][0], m[0][1], m[1][0], m[1][1]), (m[0][2], m[1][2])


def apply_affine(tform: Affine, x: float, y: float) -> Point:
    """``point_transform_affine``: ``m*p + b``."""
    (m00, m01, m10, m11), (b0, b1) = tform
    return (m00 * x + m01 * y) + b0, (m10 * x + m11 * y) + b1
