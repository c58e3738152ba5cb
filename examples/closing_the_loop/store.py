"""A simulated online store that raises the diversity of its ranking (Creux & Wong 2026, "Closing the
Loop", the motivating example), with the truth of every quantity the analysis estimates.

Two experiments on the same store. In the main one shoppers are randomized to the diverse ranking
(``diverse``, half of them); in the encouragement variant shoppers are offered it (``offered``)
and 80% of those offered take it up (``diverse``: one-sided non-compliance). Each shopper has 1–6
sessions (rows) over 14 days. Covariates are measured before the experiment: ``desktop``,
``holiday`` (a holiday shopper), ``strong`` (a strong local economic indicator) and ``pre_sales``.
A shopper effect shared by a shopper's sessions moves sales (clustered outcomes).

Mechanism, per session with D = diverse: more searches (search friction: τ_s = 0.6 + 0.4·holiday),
product views from searches (slope 0.8) and directly from D (τ_v = −0.3 − 1.5·mobile + 0.8·strong: a
slower site hurts mobile shoppers, less in a strong economy), sales from views (slope 0.3). The
effect of D on sales is 0.3·(0.8·τ_s + τ_v): negative on average, positive on desktop. Nothing
unobserved drives both a mediator and what follows it (sequential ignorability).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SALES_PER_VIEW, VIEWS_PER_SEARCH, COMPLIANCE = 0.3, 0.8, 0.8
POLICY = "CASE WHEN desktop = 1 THEN 1 ELSE 0 END"  # the diverse ranking for desktop shoppers only


@dataclass(frozen=True)
class Truth:
    """Session-weighted truths in the simulated samples."""

    itt: float                  # encouragement variant: effect of the offer on sales
    late: float                 # ... and of the diverse ranking on compliers (who take it when offered)
    ate: float                  # main experiment: the effect of the diverse ranking on sales
    ate_by_day: tuple[float, ...]  # on the sessions up to each day (the cumulative effect)
    desktop: float              # among desktop / holiday shoppers
    holiday: float
    weak_economy: float         # projected to 20% strong / 80% weak economies
    via_searches: float         # paths: T -> searches -> views -> sales and T -> views -> sales
    via_views: float
    policy_value: float         # mean sales if only desktop shoppers get the diverse ranking


def _sessions(rng: np.random.Generator, shoppers: int, days: int, compliance: float
              ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Session rows of one experiment and, per row, what the truth needs."""
    desktop, holiday, strong = (rng.random(shoppers) < p for p in (0.4, 0.3, 0.5))
    pre_sales = rng.gamma(2.0, 1.0, shoppers)
    shopper_effect = rng.normal(0.0, 0.6, shoppers)
    assigned = rng.random(shoppers) < 0.5
    complier = rng.random(shoppers) < compliance
    row = np.repeat(np.arange(shoppers), rng.integers(1, 7, shoppers))
    n = len(row)
    d = (assigned & complier)[row].astype(float)
    tau_s = 0.6 + 0.4 * holiday[row]
    tau_v = -0.3 - 1.5 * (~desktop[row]) + 0.8 * strong[row]
    searches = 3.0 + 0.3 * pre_sales[row] + tau_s * d + rng.normal(0.0, 1.0, n)
    views = 5.0 + VIEWS_PER_SEARCH * searches + 0.2 * pre_sales[row] + tau_v * d + rng.normal(0.0, 1.5, n)
    sales = (1.0 + SALES_PER_VIEW * views + 0.2 * pre_sales[row] + 0.3 * strong[row]
             + shopper_effect[row] + rng.normal(0.0, 1.0, n))
    frame = pd.DataFrame({
        "shopper": row, "day": rng.integers(0, days, n), "assigned": assigned[row].astype(int),
        "diverse": d.astype(int), "p_assigned": 0.5, "desktop": desktop[row].astype(int),
        "holiday": holiday[row].astype(int), "strong": strong[row].astype(int), "pre_sales": pre_sales[row],
        "searches": searches, "views": views, "sales": sales})
    effect = SALES_PER_VIEW * (VIEWS_PER_SEARCH * tau_s + tau_v)  # of D on the session's sales
    return frame, {"effect": effect, "complier": complier[row], "tau_s": tau_s, "tau_v": tau_v,
                   "untreated_sales": sales - d * effect}


def simulate_store(shoppers: int = 4000, days: int = 14, seed: int = 2026
                   ) -> tuple[pd.DataFrame, pd.DataFrame, Truth]:
    """(main experiment, encouragement variant, truth); the variant's assignment is ``offered``."""
    rng = np.random.default_rng(seed)
    main, m = _sessions(rng, shoppers, days, compliance=1.0)
    variant, v = _sessions(rng, shoppers, days, compliance=COMPLIANCE)
    variant = variant.rename(columns={"assigned": "offered"})
    effect, day = m["effect"], main["day"].to_numpy()
    desktop, holiday, strong = (main[c].to_numpy() == 1 for c in ("desktop", "holiday", "strong"))
    truth = Truth(
        itt=(v["complier"] * v["effect"]).mean(), late=v["effect"][v["complier"]].mean(),
        ate=effect.mean(), ate_by_day=tuple(effect[day <= d].mean() for d in range(days)),
        desktop=effect[desktop].mean(), holiday=effect[holiday].mean(),
        weak_economy=0.2 * effect[strong].mean() + 0.8 * effect[~strong].mean(),
        via_searches=m["tau_s"].mean() * VIEWS_PER_SEARCH * SALES_PER_VIEW,
        via_views=m["tau_v"].mean() * SALES_PER_VIEW,
        policy_value=(m["untreated_sales"] + desktop * effect).mean(),
    )
    return main, variant, truth
