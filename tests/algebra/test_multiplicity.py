"""Holm and Benjamini–Hochberg adjustments equal statsmodels' multipletests and the textbook loops."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from warehouse_causal.algebra.multiplicity import ADJUSTMENTS, adjust_p_values

#: Same products and running max/min, possibly in a different order.
ADJ_RTOL = 1e-12
STATSMODELS = {"holm": "holm", "bh": "fdr_bh"}


def _holm_loop(p: np.ndarray) -> np.ndarray:
    """Docstring: p̃_(i) = max_{j≤i} min(1, (m − j + 1) p_(j)), j 1-based."""
    m, order = len(p), np.argsort(p, kind="stable")
    out, running = np.empty(m), 0.0
    for j, idx in enumerate(order, start=1):
        running = max(running, min(1.0, (m - j + 1) * p[idx]))
        out[idx] = running
    return out


def _bh_loop(p: np.ndarray) -> np.ndarray:
    """Docstring: p̃_(i) = min_{j≥i} min(1, m p_(j) / j)."""
    m, order = len(p), np.argsort(p, kind="stable")
    out = np.empty(m)
    for i in range(m):
        out[order[i]] = min(min(1.0, m * p[order[j]] / (j + 1)) for j in range(i, m))
    return out


def _p_values(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(size=25) ** 3, [0.01, 0.01, 0.04, 1.0, 0.9]])  # ties and a 1
    return rng.permutation(p)


@pytest.mark.parametrize("method", ["holm", "bh"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_statsmodels_and_loop(method: str, seed: int) -> None:
    p = _p_values(seed)
    got = adjust_p_values(p, method)
    np.testing.assert_allclose(got, multipletests(p, method=STATSMODELS[method])[1], rtol=ADJ_RTOL)
    loop = _holm_loop(p) if method == "holm" else _bh_loop(p)
    np.testing.assert_allclose(got, loop, rtol=ADJ_RTOL)
    assert np.all(got >= p) and np.all(got <= 1.0)


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_nan_stays_nan_and_is_not_counted(method: str) -> None:
    p = np.array([0.01, np.nan, 0.03, 0.2, np.nan, 0.04])
    got = adjust_p_values(p, method)
    tested = ~np.isnan(p)
    assert np.isnan(got[~tested]).all()
    np.testing.assert_allclose(got[tested], multipletests(p[tested], method=STATSMODELS[method])[1],
                               rtol=ADJ_RTOL)


def test_none_empty_and_single() -> None:
    p = np.array([0.3, 0.01])
    out = adjust_p_values(p, "none")
    np.testing.assert_array_equal(out, p)
    assert out is not p  # a copy, not the caller's array
    for method in ADJUSTMENTS:
        assert adjust_p_values([], method).shape == (0,)
        assert adjust_p_values([0.02], method).tolist() == [0.02]  # a family of one
        assert np.isnan(adjust_p_values([np.nan, np.nan], method)).all()
    assert set(ADJUSTMENTS) == {"holm", "bh", "none"}


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown adjustment"):
        adjust_p_values([0.1, 0.2], "bonferroni")
