"""Shared fixtures for the engines the tests run on, and the rule that nothing is skipped in CI.

- ``postgres_con``: an ibis PostgreSQL backend at ``WC_POSTGRES_URL`` (``bash .ci/run`` starts a
  throwaway server and sets it; ``postgres://user@127.0.0.1:port/db``).
- ``spark_con``: an ibis pyspark backend on a local[2] SparkSession, one per test session.

With ``CI=true`` or ``WC_NO_SKIPS=1`` (``.ci/run`` sets it) a skipped test is a failure: a missing
server, driver, Java or Chromium must be installed, not silently left out. Expected failures
(``xfail``) are not skips and stay as they are.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


def _strict() -> bool:
    """Skips fail the run (CI, and .ci/run on a developer's machine)."""
    return os.environ.get("CI", "").lower() in ("true", "1") or os.environ.get("WC_NO_SKIPS") == "1"


def _fail_skip(report: Any) -> None:
    if _strict() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"skipped where nothing may be skipped (CI=true or WC_NO_SKIPS=1): {reason}. "
                           "Install what it needs (bash .ci/run does).")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _fail_skip(outcome.get_result())  # a module-level importorskip / skip


@pytest.fixture(scope="session")
def postgres_con() -> Iterator[Any]:
    """The PostgreSQL server at WC_POSTGRES_URL as an ibis backend (skipped without one, outside CI)."""
    url = os.environ.get("WC_POSTGRES_URL")
    if not url:
        pytest.skip("needs a PostgreSQL server: set WC_POSTGRES_URL=postgres://user@host:port/db "
                    "(bash .ci/run starts one)")
    pytest.importorskip("psycopg", reason="needs psycopg 3 (pip install -e '.[dev]')")
    import ibis

    con = ibis.connect(url)
    yield con
    con.disconnect()


@pytest.fixture(scope="session")
def spark_con() -> Iterator[Any]:
    """A local[2] SparkSession as an ibis backend (needs the 'spark' extra and Java 17/21)."""
    pytest.importorskip("pyspark", reason="needs the spark extra (pip install -e '.[spark]')")
    if shutil.which("java") is None:
        pytest.skip("needs Java 17 or 21 for Spark")
    import ibis
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (SparkSession.builder.master("local[2]").config("spark.sql.shuffle.partitions", "4")
               .config("spark.ui.enabled", "false").config("spark.driver.memory", "2g").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(session)
    session.stop()
