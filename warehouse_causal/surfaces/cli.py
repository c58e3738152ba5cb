"""Command line: ``warehouse-causal demo``, ``warehouse-causal run analysis.json`` and
``warehouse-causal plan plan.json`` (or ``python -m warehouse_causal ...``).

A thin layer over the public API: parse arguments, call it, format the output. Every failure is one
line on stderr, ``warehouse-causal: error: ...``, and exit code 2 (``--debug`` adds the traceback);
documents are read within the limits of :mod:`warehouse_causal.core.documents`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

import duckdb

import warehouse_causal as wc
from warehouse_causal.core.errors import InvalidParameterError, WarehouseCausalError
from warehouse_causal.core.tables import strict_json
from warehouse_causal.datasets.support_rollout import DemoTruth, simulate_support_rollout
from warehouse_causal.decide.decisions import memo
from warehouse_causal.surfaces.agent import Toolbox
from warehouse_causal.surfaces.analysis_spec import (
    engine_message,
    load_monitor,
    load_plan,
    load_spec,
    run_plan,
    run_spec,
)
from warehouse_causal.surfaces.answers import analysis_answer
from warehouse_causal.surfaces.mcp_server import serve
from warehouse_causal.surfaces.sentences import package_warnings
from warehouse_causal.surfaces.spec_schema import ANALYSIS_SCHEMA, MONITOR_SCHEMA, PLAN_SCHEMA

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    import pandas as pd

    truth = DemoTruth()
    print(f"Simulating {args.rows:,} support tickets in {args.teams} teams (team-randomized "
          "encouragement to use an AI assistant) into an in-memory DuckDB ...")
    con = wc.connect()
    tickets = con.create_table("tickets", simulate_support_rollout(args.rows, args.teams, args.seed, truth))
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", wc.WarehouseCausalWarning)
        exp = wc.ExperimentData(tickets, intent_to_treat="assigned", treated="used", cluster_by="team_id",
                                expected_split={0: 0.5, 1: 0.5})
        model = exp.add_metric(
            y=["resolved", "minutes", "csat"],
            exogeneous_covariates=["pre_resolution", "tenure", "region"],
        ).fit(wc.LinearModel)
    elapsed = time.perf_counter() - start
    design = exp.design
    print(f"\nDesign: tickets randomized by team ('assigned'), {model.n_clusters} teams; the "
          "assistant actually used is 'used'; cluster-robust (CR1) errors by team.")
    main_stage = next(r for r in model.first_stage if ":" not in r.term)  # the arm, not its interactions
    print(f"Sample-ratio test on teams: p = {design.srm_p_value:.3f}.  Instrument strength (first-stage "
          f"F of 'used' on 'assigned'): {main_stage.f_statistic:,.0f} (weak below 10).")
    print("\nCompliance (tickets by assignment and use):")
    compliance = design.compliance().pivot_table(index="intent_to_treat", columns="treated", values="n",
                                                 aggfunc="sum", fill_value=0)
    compliance.index.name, compliance.columns.name = "assigned", "used"
    print(compliance.to_string())
    effects = model.infer_effect(condition_on=["region = 'apac'", "tenure > 4"])
    table = effects.to_pandas()
    table.insert(3, "truth", [getattr(truth, m) for m in table.metric])
    print("\nEffect of using the assistant on compliers (2SLS, LATE): 95% CR1 intervals, Holm-adjusted "
          "p-values, and anytime-valid (av_) columns that stay valid under continuous monitoring:")
    with pd.option_context("display.float_format", "{:,.4f}".format, "display.width", 160):
        print(table.drop(columns=["arm", "std_error", "av_p_value"]).to_string(index=False))
    mix = effects.project({"region = 'apac'": 0.5, "region <> 'apac'": 0.5}).to_pandas()
    print("\nProjected to a future mix of 50% APAC tickets: "
          + "; ".join(f"{r.metric} {r.estimate:+.4f} [{r.ci_lower:+.4f}, {r.ci_upper:+.4f}]"
                      for r in mix.itertuples()))
    value = effects.combine({"resolved": 100.0, "minutes": -2.0}, name="value").to_pandas().iloc[0]
    print(f"Net value (100 x resolved - 2 x minutes), all tickets: {value.estimate:+.2f} "
          f"[{value.ci_lower:+.2f}, {value.ci_upper:+.2f}]")
    naive = tickets.group_by("used").aggregate(rate=tickets.resolved.mean()).order_by("used").to_pyarrow()
    rates = naive.column("rate").to_pylist()
    print(f"\n(Naive users-vs-non-users gap in resolution: {rates[1] - rates[0]:+.4f}, "
          f"vs true {truth.resolved:+.4f}: selection bias that randomization removes.)")
    queries = [*model.queries, *effects.queries]
    returned = sum(q.rows for q in queries)
    print(f"\n{len(queries)} warehouse queries ({elapsed:.2f} s for the fit), {returned:,} result rows in "
          "all, none of them ticket rows (model.queries and --sql show each).")
    for w in caught:
        print(f"warning: {w.message}")
    if args.sql:
        print("\n" + model.sql())
    return 0


#: Exit code of every refused command (argparse's usage errors use it too).
EXIT_ERROR = 2


def _check_report_path(report: str | None) -> None:
    """Refuse a ``--report`` path that cannot be written before the analysis runs (a missing folder,
    a directory); a write that fails later (a full disk) is refused when it happens."""
    if report is None:
        return
    path = Path(report)
    if path.is_dir():
        raise InvalidParameterError(f"--report {report!r} is a directory; give a file name (.html or .md).")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidParameterError(f"--report {report!r}: the folder {str(parent)!r} does not exist.")


def _write_report(report: str, text: str) -> None:
    try:
        with open(report, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as err:
        raise InvalidParameterError(f"--report {report!r} cannot be written: {err.strerror or err}.") \
            from None


def _run(args: argparse.Namespace) -> int:
    import json

    _check_report_path(args.report)
    spec = load_spec(args.spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", wc.WarehouseCausalWarning)
        result = run_spec(spec, Path(args.spec).resolve().parent)
    model, effects = result["model"], result["effects"]
    messages = package_warnings(caught)  # the package's own, once each; not dependencies' deprecations
    for other in caught:
        if not issubclass(other.category, wc.WarehouseCausalWarning):
            logging.getLogger(__name__).debug("%s: %s", other.category.__name__, other.message)
    if args.sql:
        queries = [*model.queries, *effects.queries]
        print("\n\n".join(f"-- {q.purpose}\n{q.sql};" for q in queries))
        return 0
    if args.format == "json":
        document = analysis_answer(result, messages)  # strict JSON already
        print(json.dumps(document, indent=2, default=str, allow_nan=False))
        return 0
    print(effects.to_markdown())
    if "decision" in result:
        print(f"\n{result['decision']}")
    if "mediation" in result:
        print(f"\n{result['mediation']}")
    for key in ("quantiles", "projection", "over_time"):
        if key in result:
            print(f"\n{result[key].caption()}\n{result[key].to_markdown()}")
    for message in messages:
        print(f"warning: {message}")
    if args.report:
        decision = result.get("decision")
        html_report = args.report.lower().endswith((".html", ".htm"))
        quantiles = result.get("quantiles")
        _write_report(args.report, effects.report(decision=decision, quantiles=quantiles,
                                                  cumulative=result.get("over_time")) if html_report
                      else memo(effects, decision, quantiles))
        print(f"wrote {args.report}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    import json

    result = run_plan(load_plan(args.spec), Path(args.spec).resolve().parent)
    if args.format == "json":
        document = {name: {"caption": table.caption(), "rows": table.to_dicts()}
                    for name, table in result.items()}
        print(json.dumps(strict_json(document), indent=2, default=str, allow_nan=False))
        return 0
    print("\n\n".join(f"{table.caption()}\n\n{table.to_markdown()}" for table in result.values()))
    return 0


def _monitor(args: argparse.Namespace) -> int:
    _check_report_path(args.report)
    spec = load_monitor(args.spec)
    report = run_spec(spec, Path(args.spec).resolve().parent)["monitor"]
    if args.format == "json":
        print(report.to_json())
    else:
        print(f"{report.caption()}\n\n{report.to_markdown()}")
    if args.report:
        try:
            report.report(args.report)
        except OSError as err:
            raise InvalidParameterError(f"--report {args.report!r} cannot be written: "
                                        f"{err.strerror or err}.") from None
        print(f"wrote {args.report}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    import json

    schemas = {"analysis": ANALYSIS_SCHEMA, "plan": PLAN_SCHEMA, "monitor": MONITOR_SCHEMA}
    print(json.dumps(schemas[args.document], indent=2))
    return 0


def _mcp(args: argparse.Namespace) -> int:
    toolbox = Toolbox.open(args.connection, read_only=args.read_only, metrics=args.metrics,
                           max_rows_scanned=args.max_rows_scanned, max_seconds=args.max_seconds)
    serve(toolbox, http_port=args.http, host=args.host)
    return 0


def _one_line(error: BaseException) -> str:
    """The error as one line: the package's own message, the engine's first line, or the class
    and message of anything else."""
    if isinstance(error, duckdb.Error):
        return f"the warehouse refused a query: {engine_message(error)}"
    text = " ".join(str(error).split())
    if isinstance(error, (WarehouseCausalError, ImportError)):
        return text
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}" + (f": {error.filename!r}" if error.filename else "")
    return f"{type(error).__name__}: {text} (run with --debug for the traceback)"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code: 0, or 2 with one line on stderr naming the
    problem (``--debug``: the traceback too)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s",
                        stream=sys.stderr)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("warehouse-causal: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (| head): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as error:  # every failure: one line naming it, never a traceback unless asked
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"warehouse-causal: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)  # accepted after the command too
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on an error, also print the traceback")
    parser = argparse.ArgumentParser(prog="warehouse-causal", description=wc.__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log every query")
    parser.add_argument("--debug", action="store_true", help="on an error, also print the traceback")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=text)

    demo = command("demo", "simulate an encouragement experiment and analyse it")
    demo.add_argument("--rows", type=int, default=200_000, help="tickets to simulate (default 200,000)")
    demo.add_argument("--teams", type=int, default=400, help="teams, the randomization unit (default 400)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--sql", action="store_true", help="also print the SQL of every pass")
    demo.set_defaults(handler=_demo)
    run = command("run", "run an analysis described in a JSON or YAML file")
    run.add_argument("spec", help="analysis file (.json, or .yaml with PyYAML installed)")
    run.add_argument("--format", choices=["table", "json"], default="table",
                     help="json: machine-readable effects, decision and diagnostics (for agents)")
    run.add_argument("--sql", action="store_true", help="print the SQL of every query instead of results")
    run.add_argument("--report", help="also write the report: .html (self-contained page) or markdown memo")
    run.set_defaults(handler=_run)
    plan = command("plan", "power, MDE and sample size of a planned design, from history")
    plan.add_argument("spec", help="plan file (.json, or .yaml with PyYAML installed)")
    plan.add_argument("--format", choices=["md", "json"], default="md", help="markdown tables or JSON")
    plan.set_defaults(handler=_plan)
    schema = command("schema", "print the JSON Schema of analysis (or plan) documents")
    schema.add_argument("document", nargs="?", choices=["analysis", "plan", "monitor"], default="analysis")
    monitor = command("monitor", "post-launch checks of an experiment against production")
    monitor.add_argument("spec", help="monitor file (.json, or .yaml with PyYAML installed)")
    monitor.add_argument("--format", choices=["md", "json"], default="md", help="markdown table or JSON")
    monitor.add_argument("--report", help="also write the HTML monitoring report")
    monitor.set_defaults(handler=_monitor)
    schema.set_defaults(handler=_schema)
    mcp = command("mcp", "serve the agent tools over the Model Context Protocol (stdio)")
    mcp.add_argument("--connection", required=True, help="a DuckDB file, or an ibis URL (duckdb://, ...)")
    mcp.add_argument("--read-only", action=argparse.BooleanOptionalAction, default=True,
                     help="open DuckDB files read-only with file access in SQL disabled (default)")
    mcp.add_argument("--metrics", help="a metric catalog (YAML/JSON) whose names the tools accept")
    mcp.add_argument("--max-rows-scanned", type=int, default=2_000_000_000,
                     help="per-call budget: rows the queries of one call may read (default 2e9)")
    mcp.add_argument("--max-seconds", type=float, default=300.0,
                     help="per-call budget: seconds (default 300)")
    mcp.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on this port instead")
    mcp.add_argument("--host", default="127.0.0.1", help="HTTP host (default 127.0.0.1)")
    mcp.set_defaults(handler=_mcp)
    return parser
