"""dbt_example: `dbt build` materialises the experiment offline (dbt-duckdb), then the analysis
step runs in the warehouse and writes `experiment_effects` back; the effect matches the design."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import warehouse_causal as wc

PROJECT = Path(__file__).resolve().parents[1] / "dbt_example"
#: Built into models/events.sql: +20% spend after exposure; 150k events over 60 days for 20k users,
#: mean amount 49.995, so a 14-day window holds 1.75 events per user: 0.2 × 49.995 × 1.75.
TRUE_EFFECT = 0.2 * 49.995 * 1.75


def _dbt() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("dbt is required in CI (.ci/run installs the 'dbt' extra)")
        pytest.skip("needs dbt-core and dbt-duckdb (pip install 'warehouse_causal[dbt]')")
    return found


@pytest.mark.slow
def test_dbt_build_then_analysis_writes_effects(tmp_path: Path) -> None:
    project = tmp_path / "dbt_example"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("*.duckdb", "target", "logs"))
    database = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "WC_DUCKDB_PATH": str(database), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    build = subprocess.run([_dbt(), "build", "--project-dir", str(project), "--profiles-dir", str(project)],
                           capture_output=True, text=True, env=env, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:]
    assert "PASS=9" in build.stdout  # 3 models, 6 tests
    spec = importlib.util.spec_from_file_location("analyze", project / "analyze.py")
    analyze = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(analyze)
    assert analyze.main(str(database)) == 0
    effects = wc.connect(database).table("experiment_effects").to_pandas()
    assert list(effects.segment) == ["all", "tenure > 5"]
    overall = effects.iloc[0]
    assert overall.ci_lower <= TRUE_EFFECT <= overall.ci_upper
    assert set(effects.columns) >= {"estimate", "std_error", "av_ci_lower", "av_ci_upper", "p_adjusted"}
    # the post-launch checks of the production model: +20% held by the launch, nothing drifts
    monitoring = wc.connect(database).table("experiment_monitoring").to_pandas()
    assert {"population", "persistence", "measurement"} <= set(monitoring.layer)
    assert list(monitoring[monitoring.status == "alert"].check) == []
    assert (monitoring.analysed_by == analyze.MARKER).all()
    # a user's own table of that name is never replaced
    con = wc.connect(database)
    con.create_table("experiment_monitoring", {"mine": [1]}, overwrite=True)
    con.disconnect()
    with pytest.raises(SystemExit, match="not written by this analysis step"):
        analyze.main(str(database))
    assert list(wc.connect(database).table("experiment_monitoring").columns) == ["mine"]
