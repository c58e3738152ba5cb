r"""Small linear-algebra helpers: equilibrated solves, conditioning and collinearity diagnosis.

Gram matrices arrive as sums over rows (X'WX), so their scale spans many orders of magnitude.
We equilibrate with :math:`D = \operatorname{diag}(G)^{-1/2}` and work with :math:`DGD`, whose
diagonal is one (van der Sluis 1969: this is within a factor k of the optimal diagonal scaling).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

__all__ = ["collinear_sets", "condition_number", "equilibrated", "solve_spd"]

#: Relative eigenvalue below which a scaled Gram matrix is treated as singular.
RANK_TOL = 1e-10


def equilibrated(gram: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return (D G D, d) with d = diag(G)^{-1/2}; zero diagonals get scale 1 (caught as rank loss)."""
    diag = np.diag(gram).copy()
    scale = np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0)
    return gram * scale[:, None] * scale[None, :], scale


def condition_number(gram: NDArray[np.float64]) -> float:
    """2-norm condition number of the equilibrated Gram matrix (inf when singular)."""
    scaled, _ = equilibrated(gram)
    eig = np.linalg.eigvalsh(scaled)
    return float(np.inf) if eig[0] <= 0 else float(eig[-1] / eig[0])


def solve_spd(gram: NDArray[np.float64], rhs: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""Solve :math:`G x = b` for symmetric positive-definite G by an equilibrated Cholesky factor."""
    scaled, d = equilibrated(gram)
    factor = scipy.linalg.cho_factor(scaled, lower=True, check_finite=True)
    rhs2 = rhs if rhs.ndim == 2 else rhs[:, None]
    x = d[:, None] * scipy.linalg.cho_solve(factor, d[:, None] * rhs2)
    return x if rhs.ndim == 2 else x[:, 0]


def collinear_sets(gram: NDArray[np.float64], tol: float = RANK_TOL) -> list[list[int]]:
    r"""Index sets of linearly dependent columns of the matrix whose Gram matrix is ``gram``.

    Notes
    -----
    A column with zero sum of squares is reported alone. Otherwise each eigenvector of the
    equilibrated Gram matrix with eigenvalue below ``tol`` times the largest spans a null direction
    :math:`Xv \approx 0`; the columns with non-negligible loadings in v are the dependent set.
    """
    diag = np.diag(gram)
    zero = [[int(i)] for i in np.flatnonzero(diag <= 0)]
    keep = np.flatnonzero(diag > 0)
    if keep.size == 0:
        return zero
    scaled, _ = equilibrated(gram[np.ix_(keep, keep)])
    eigval, eigvec = np.linalg.eigh(scaled)
    top = max(eigval[-1], 1e-300)
    sets: list[list[int]] = []
    for value, vector in zip(eigval, eigvec.T, strict=True):
        if value > tol * top:
            break
        loading = np.abs(vector)
        members = sorted(int(keep[i]) for i in np.flatnonzero(loading > 1e-6 * loading.max()))
        if members not in sets:
            sets.append(members)
    return zero + sets
