"""Small simulated datasets the README and the examples run on (generated, never downloaded), as
in-memory tables of the default DuckDB backend.

- :func:`tickets`: the support-assistant rollout of the demo (team-randomized encouragement), with
  a ticket date, a judge score on every ticket and a human score on a random 10% audit.
- :func:`routing`: a logged routing policy (three routes, known propensities) for off-policy
  evaluation and Thompson sampling.
- :func:`panel`: user × day rows with staggered exposure and a decaying novelty effect.
- :func:`reviews`: a user-randomized A/B test of answers scored by an LLM judge on every row and
  by humans on a random 10% audit.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from warehouse_causal.datasets.support_rollout import simulate_support_rollout

__all__ = ["panel", "reviews", "routing", "tickets"]


def tickets(rows: int = 20_000, teams: int = 200, seed: int = 7) -> ir.Table:
    """One row per support ticket: ``team_id`` randomized to ``assigned`` (encouragement), ``used``
    (take-up), ``region``, ``tenure``, ``pre_resolution``, outcomes ``resolved``, ``minutes``,
    ``csat``; ``created_at`` (a date over 14 days) and ``day`` (0-13); ``judge_score`` (an LLM
    judge's csat, noisy) and ``human_score`` (NULL outside a 10% audit)."""
    df = simulate_support_rollout(rows, teams, seed)
    rng = np.random.default_rng(seed + 1)
    df["day"] = rng.integers(0, 14, rows)
    df["created_at"] = pd.Timestamp("2026-11-01") + pd.to_timedelta(df["day"], unit="D")
    df["judge_score"] = df["csat"] + 0.3 + rng.normal(0, 0.4, rows)
    df["human_score"] = np.where(rng.random(rows) < 0.1, df["csat"] + rng.normal(0, 0.1, rows), np.nan)
    return ibis.memtable(df)


def routing(rows: int = 20_000, seed: int = 11) -> ir.Table:
    """A logged policy: ``route`` (0, 1, 2) drawn with propensity ``p_route`` given the context
    ``x`` (numeric) and ``segment`` (0/1); ``reward`` depends on route and context."""
    rng = np.random.default_rng(seed)
    x = rng.random(rows)
    segment = rng.integers(0, 2, rows)
    logits = np.column_stack([np.zeros(rows), x - 0.5, 0.5 * segment - 0.2])
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    route = np.array([rng.choice(3, p=p) for p in probabilities])
    reward = (1.0 + 0.5 * (route == 2) * (x > 0.5) + 0.3 * (route == 1) * segment
              + 0.2 * x + rng.normal(0, 1, rows))
    df = pd.DataFrame({"route": route, "p_route": probabilities[np.arange(rows), route],
                       "x": x, "segment": segment, "reward": reward})
    return ibis.memtable(df)


def panel(users: int = 2_000, days: int = 14, seed: int = 3) -> ir.Table:
    """User × day rows: ``user`` randomized to ``arm``, exposed on a staggered day (``exposed_at``),
    one row per ``date`` from exposure on; ``y`` carries a novelty effect 2·e^(−age/3)."""
    rng = np.random.default_rng(seed)
    exposed = rng.integers(0, 7, users)
    arm = rng.integers(0, 2, users)
    user = np.repeat(np.arange(users), days)
    age = np.tile(np.arange(days), users)
    day = exposed[user] + age
    y = (1.0 + 0.05 * day + rng.normal(size=users)[user] + 2.0 * np.exp(-age / 3.0) * arm[user]
         + rng.normal(size=user.size))
    start = pd.Timestamp("2026-11-01")
    df = pd.DataFrame({"user": user, "arm": arm[user], "y": y,
                       "date": start + pd.to_timedelta(day, unit="D"),
                       "exposed_at": start + pd.to_timedelta(exposed[user], unit="D")})
    return ibis.memtable(df)


def reviews(rows: int = 10_000, seed: int = 5) -> ir.Table:
    """One answer per row: ``arm`` (0/1, randomized per row), ``quality`` (the true human rating),
    ``judge_score`` (a biased, noisy LLM judge) and ``human_score`` (NULL outside a 10% audit)."""
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, rows)
    quality = 3.5 + 0.15 * arm + rng.normal(0, 0.8, rows)
    judge = 0.5 + 0.9 * quality + rng.normal(0, 0.5, rows)
    human = np.where(rng.random(rows) < 0.1, quality + rng.normal(0, 0.1, rows), np.nan)
    return ibis.memtable(pd.DataFrame({"arm": arm, "judge_score": judge, "human_score": human}))
