"""Type-I error under continuous monitoring: 500 null experiments, each looked at after every one
of 20 batches. Rejecting at any look with the anytime-valid p-value stays below α + 0.02; with the
classical p-value it does not stay below α (the peeking problem the anytime-valid columns solve).

The looks reuse the engine's own algebra on cumulative moments (moments are additive over batches,
exactly how a warehouse pass would compute them at each look).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from warehouse_causal.algebra import iid_covariance, residual_cross_products, two_stage_least_squares
from warehouse_causal.algebra.anytime import asymptotic_p_value, optimal_g, rho2_exact, t_p_value

ALPHA = 0.05
REPLICATIONS = 500
LOOKS = 20
BATCH = 50


def _ever_rejects(seed: int, g: float, rho2: float) -> tuple[bool, bool, bool]:
    rng = np.random.default_rng(seed)
    n = LOOKS * BATCH
    x = np.column_stack([np.ones(n), rng.integers(0, 2, n)])
    y = rng.normal(size=(n, 1))  # no effect: the null is true
    classical = av_t = av_asymptotic = False
    for look in range(1, LOOKS + 1):
        rows = slice(0, look * BATCH)
        xtx, xty, yty = x[rows].T @ x[rows], x[rows].T @ y[rows], y[rows].T @ y[rows]
        sol = two_stage_least_squares(xtx, xtx, xty)
        m = look * BATCH
        cov = iid_covariance(sol.a_inv, residual_cross_products(sol.params, xtx, xty, yty), m - 2)
        t = sol.params[1, 0] / np.sqrt(cov[1, 1])
        classical |= 2 * scipy.stats.t.sf(abs(t), m - 2) < ALPHA
        av_t |= t_p_value(t, m - 2, m, g)[()] < ALPHA
        av_asymptotic |= asymptotic_p_value(t, m, rho2)[()] < ALPHA
    return classical, av_t, av_asymptotic


@pytest.mark.slow
def test_anytime_valid_p_values_control_type_one_error_under_peeking() -> None:
    planned = LOOKS * BATCH
    g, rho2 = optimal_g(planned, 2, ALPHA), rho2_exact(planned, ALPHA)
    results = np.array([_ever_rejects(seed, g, rho2) for seed in range(REPLICATIONS)])
    classical, av_t, av_asymptotic = results.mean(axis=0)
    print(f"rejected at any of {LOOKS} looks in {REPLICATIONS} null runs: classical {classical:.3f}, "
          f"anytime-valid t {av_t:.3f}, anytime-valid asymptotic {av_asymptotic:.3f}")
    assert av_t <= ALPHA + 0.02
    assert av_asymptotic <= ALPHA + 0.02
    assert classical > ALPHA
