"""A realistic demo: an AI-assistant rollout to support teams, randomized by team, where agents
choose whether to use the assistant (non-compliance). Simulated with known truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DemoTruth", "simulate_support_rollout"]


@dataclass(frozen=True)
class DemoTruth:
    """Effects of *using* the assistant, built into the simulation."""

    resolved: float = 0.04
    minutes: float = -3.0
    csat: float = 0.10


def simulate_support_rollout(n_tickets: int = 200_000, n_teams: int = 400, seed: int = 7,
                             truth: DemoTruth = DemoTruth()) -> pd.DataFrame:
    """One row per ticket: team randomized to encouragement ``assigned``; ``used`` is take-up.

    About 55% of agents in encouraged teams use the assistant and 5% of agents elsewhere find it
    anyway; heavy users are better agents to begin with, so comparing users to non-users is biased,
    while 2SLS on the randomized encouragement recovers the effect of use (LATE).
    """
    rng = np.random.default_rng(seed)
    team = rng.integers(0, n_teams, n_tickets)
    assigned = rng.permutation(np.repeat([0, 1], n_teams // 2))[team]
    skill = rng.normal(size=n_tickets)
    tenure = np.round(rng.gamma(2.0, 1.5, n_tickets), 1)
    region = rng.choice(["americas", "emea", "apac"], n_tickets, p=[0.45, 0.35, 0.20])
    team_effect = rng.normal(scale=0.5, size=n_teams)[team]
    take_up = np.where(assigned == 1, 0.45, 0.03) + 0.1 * (skill > 0)
    used = (rng.random(n_tickets) < take_up).astype(int)
    pre_resolution = np.clip(0.7 + 0.05 * skill + 0.02 * team_effect + rng.normal(0, 0.1, n_tickets), 0, 1)
    p_resolved = np.clip(0.68 + 0.06 * skill + 0.03 * team_effect + truth.resolved * used, 0.01, 0.99)
    minutes = (24 - 1.5 * skill + 0.4 * tenure + 2.0 * (region == "apac") + 3 * team_effect
               + truth.minutes * used + rng.gamma(2.0, 2.0, n_tickets))
    csat = 4.0 + 0.2 * skill + 0.1 * team_effect + truth.csat * used + rng.normal(0, 0.6, n_tickets)
    return pd.DataFrame({
        "ticket_id": np.arange(n_tickets), "team_id": team, "assigned": assigned, "used": used,
        "region": region, "tenure": tenure, "pre_resolution": pre_resolution,
        "resolved": (rng.random(n_tickets) < p_resolved).astype(int), "minutes": minutes,
        "csat": csat,
    })
