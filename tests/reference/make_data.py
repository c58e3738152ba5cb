"""Write ``data/iv_clustered.csv``: the dataset that R and the package both fit.

A cluster-randomized encouragement design: 2,000 rows in 80 clusters of unequal size, assignment
``z`` randomized by cluster (40 clusters each), take-up ``d`` with non-compliance (compliers,
always- and never-takers, take-up depending on x1), a numeric covariate ``x1``, a 3-level
categorical ``x2`` (a, b, c), positive weights ``w``, a continuous outcome ``y`` (heterogeneous
effect, cluster effects, heteroskedastic noise) and a binary outcome ``y2``. Rows are shuffled,
so a cluster's rows are not contiguous.

Floats are rounded to 6 decimals before writing, so the file is exactly what both sides read
(the CSV is committed; this script documents how it was made and regenerates it):

    python tests/reference/make_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
N_ROWS = 2_000
N_CLUSTERS = 80
PATH = Path(__file__).parent / "data" / "iv_clustered.csv"


def make(seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # Unequal cluster sizes (at least 5 rows each), summing to N_ROWS.
    share = rng.gamma(2.0, size=N_CLUSTERS)
    extra = rng.multinomial(N_ROWS - 5 * N_CLUSTERS, share / share.sum())
    sizes = 5 + extra
    g = np.repeat(np.arange(1, N_CLUSTERS + 1), sizes)
    # Cluster randomization: exactly half of the clusters assigned.
    z_cluster = rng.permutation(np.repeat([0, 1], N_CLUSTERS // 2))
    z = z_cluster[g - 1]
    u = rng.normal(scale=0.6, size=N_CLUSTERS)[g - 1]          # cluster effect on the outcome
    v = rng.normal(scale=0.5, size=N_CLUSTERS)[g - 1]          # cluster effect on x1
    x1 = np.round(2.0 + v + rng.normal(size=N_ROWS), 6)
    x2 = rng.choice(np.array(["a", "b", "c"]), size=N_ROWS, p=[0.5, 0.3, 0.2])
    # Non-compliance: compliers more likely at high x1; some always- and never-takers.
    p_complier = 0.45 + 0.3 / (1.0 + np.exp(-(x1 - 2.0)))
    draw = rng.random(N_ROWS)
    kind = np.where(draw < p_complier, "complier", np.where(draw < p_complier + 0.1, "always", "never"))
    d = np.where(kind == "complier", z, np.where(kind == "always", 1, 0))
    w = np.round(rng.uniform(0.5, 3.0, size=N_ROWS), 6)
    x2b, x2c = (x2 == "b").astype(float), (x2 == "c").astype(float)
    noise = rng.normal(size=N_ROWS) * (0.8 + 0.4 * d + 0.2 * np.abs(x1 - 2.0))
    y = np.round(1.0 + 0.8 * d + 0.5 * x1 + 0.3 * d * (x1 - 2.0) + 0.4 * x2b - 0.2 * x2c
                 + 0.25 * d * x2c + u + noise, 6)
    p2 = 1.0 / (1.0 + np.exp(-(-0.5 + 0.4 * d + 0.3 * (x1 - 2.0) + 0.2 * x2b + 0.5 * u)))
    y2 = (rng.random(N_ROWS) < p2).astype(int)
    df = pd.DataFrame({"g": g, "z": z, "d": d, "x1": x1, "x2": x2, "w": w, "y": y, "y2": y2})
    return df.iloc[rng.permutation(N_ROWS)].reset_index(drop=True)   # clusters not contiguous


def main() -> None:
    PATH.parent.mkdir(parents=True, exist_ok=True)
    make().to_csv(PATH, index=False, float_format="%.6f", lineterminator="\n")
    print(f"wrote {PATH} ({PATH.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
