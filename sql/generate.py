"""Regenerate the golden SQL of the canonical example for every dialect: ``python sql/generate.py``.

The canonical example is the demo (team-randomized encouragement, 3 metrics, 3 covariates,
CR1, one segment) on 20,000 simulated rows in a table named ``experiment``. Each warehouse query
of the analysis is compiled by ibis for each dialect into ``sql/<dialect>/<NN>_<purpose>.sql``, so
reviewers can read exactly what runs in their warehouse. ``tests/test_golden_sql.py`` checks the
files are current and parse back in their dialect.
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIALECTS = ("duckdb", "bigquery", "snowflake", "pyspark", "postgres")


def canonical_queries() -> list[tuple[str, object]]:
    """(purpose, ibis expression) of every warehouse query of the canonical analysis, in order
    (segment conditions answered from the pass-1 cells run in-process and are not listed)."""
    import warehouse_causal as wc
    from warehouse_causal.datasets.support_rollout import simulate_support_rollout

    con = wc.connect()
    table = con.create_table("experiment", simulate_support_rollout(20_000, 100, seed=3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(table, intent_to_treat="assigned", treated="used", cluster_by="team_id")
        model = exp.add_metric(["resolved", "minutes", "csat"], ["pre_resolution", "tenure", "region"]).fit(
            wc.LinearModel)
        effects = model.infer_effect(condition_on=["region = 'apac'"])
    source = table.op()
    return [(q.purpose, q.expr) for q in (*model.queries, *effects.queries)
            if source in q.expr.op().find(type(source))]  # warehouse queries only


def file_name(index: int, purpose: str) -> str:
    """``NN_purpose.sql`` with the purpose in lowercase snake case."""
    slug = re.sub(r"[^a-z0-9]+", "_", purpose.lower()).strip("_")
    return f"{index:02d}_{slug}.sql"


def render() -> dict[str, str]:
    """Relative path → SQL text for every dialect and query."""
    from warehouse_causal.warehouse.backends import to_sql

    out = {}
    for index, (purpose, expr) in enumerate(canonical_queries(), start=1):
        for dialect in DIALECTS:
            out[f"{dialect}/{file_name(index, purpose)}"] = f"-- {purpose}\n{to_sql(expr, dialect)};\n"
    return out


def main() -> int:
    rendered = render()
    for stale in sorted(HERE.glob("*/*.sql")):
        if str(stale.relative_to(HERE)) not in rendered:
            stale.unlink()
            print(f"removed sql/{stale.relative_to(HERE)}")
    for relative, text in rendered.items():
        path = HERE / relative
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        print(f"wrote sql/{relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
