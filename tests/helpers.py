"""Simulated experiments with known truth, and an independent row-level design-matrix builder
(pandas/numpy) used to feed the statsmodels and linearmodels oracles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Same normal equations solved two ways: agreement to this relative tolerance (issue acceptance).
ORACLE_RTOL = 1e-8


@dataclass(frozen=True)
class Sim:
    """Knobs of :func:`simulate`."""

    n: int = 2_000
    arms: int = 2
    encouragement: bool = False
    clusters: int | None = None
    propensity: bool = False
    offset: float = 0.0
    effect: float = 0.5
    seed: int = 0


def simulate(sim: Sim) -> pd.DataFrame:
    """An experiment table: assignment ``z``, received arm ``d``, covariates x1, x2, device, metrics."""
    rng = np.random.default_rng(sim.seed)
    n = sim.n
    df = pd.DataFrame({
        "x1": rng.normal(size=n) + sim.offset,
        "x2": rng.normal(size=n),
        "device": rng.choice(["desktop", "mobile", "tablet"], size=n, p=[0.5, 0.35, 0.15]),
    })
    u = np.zeros(n)
    if sim.clusters:
        g = rng.integers(0, sim.clusters, size=n)
        df["team"] = g
        u = rng.normal(scale=0.7, size=sim.clusters)[g]
    levels = [0, 1] if sim.arms == 2 else ["control"] + [f"v{i}" for i in range(1, sim.arms)]
    if sim.propensity:
        p1 = 0.2 + 0.6 / (1.0 + np.exp(-df.x2.to_numpy()))
        z_idx = (rng.random(n) < p1).astype(int)
        df["p"] = np.where(z_idx == 1, p1, 1.0 - p1)
    elif sim.clusters:
        z_idx = rng.integers(0, sim.arms, size=sim.clusters)[df["team"].to_numpy()]
    else:
        z_idx = rng.integers(0, sim.arms, size=n)
    df["z"] = [levels[i] for i in z_idx]
    if sim.encouragement:
        kind = rng.choice(["complier", "always", "never"], size=n, p=[0.6, 0.1, 0.3])
        d_idx = np.where(kind == "complier", z_idx, np.where(kind == "always", 1, 0))
        df["d"] = [levels[i] for i in d_idx]
    else:
        d_idx = z_idx
    effect = sim.effect * d_idx
    x1c = df.x1.to_numpy() - sim.offset
    mobile = (df.device == "mobile").to_numpy()
    df["y"] = (3.0 + sim.offset * 0.01 + effect + 0.5 * x1c + 0.3 * df.x2 + 0.2 * effect * df.x2
               + 0.4 * mobile + u + rng.normal(size=n) * (1 + 0.5 * (d_idx > 0)))
    df["y2"] = 1.0 - 0.3 * effect + 0.2 * x1c + 0.5 * u + rng.normal(size=n)
    df["conv"] = (rng.random(n) < 0.2 + 0.05 * (d_idx > 0)).astype(float)
    df["w"] = rng.uniform(0.5, 2.0, size=n)
    return df


def dummies(series: pd.Series, name: str, control: object) -> pd.DataFrame:
    levels = sorted(set(series) - {control}, key=lambda v: (str(type(v)), v))
    return pd.DataFrame({f"{name}[{lv}]": (series == lv).astype(float) for lv in levels})


def design_matrices(
    df: pd.DataFrame,
    treated: str,
    instrument: str,
    control: object,
    covariates: list[str],
    categorical: list[str],
    interacted: bool,
    weights: np.ndarray | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """X and Z with the package's column labels, covariates centred at their weighted mean."""
    w = np.ones(len(df)) if weights is None else weights
    cov = pd.DataFrame(index=df.index)
    for c in covariates:
        if c in categorical:
            levels = sorted(df[c].unique())
            for lv in levels[1:]:
                cov[f"{c}[{lv}]"] = (df[c] == lv).astype(float)
        else:
            cov[c] = df[c].astype(float)
    cov = cov - np.average(cov.to_numpy(), axis=0, weights=w) if len(cov.columns) else cov

    def build(column: str) -> pd.DataFrame:
        arms = dummies(df[column], column, control)
        parts = [pd.DataFrame({"Intercept": np.ones(len(df))}, index=df.index), arms, cov]
        if interacted:
            parts.append(pd.DataFrame({f"{a}:{c}": arms[a] * cov[c] for a in arms for c in cov}))
        return pd.concat(parts, axis=1)

    return build(treated), build(instrument)


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Largest relative difference, measured against the larger magnitude (safe near zero)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    return float(np.max(np.abs(a - b) / scale))
