"""Metric definitions in one place: a YAML (or JSON) file of fact-table metrics, ratios, percentiles
and caps, read once and used by the Python API and analysis files alike.

.. code-block:: yaml

    metrics:
      revenue: {source: orders, unit: user_id, value: SUM(amount), window: [0, 14],
                time: ordered_at, exposure: exposed_at}
      orders:  {source: orders, unit: user_id, value: COUNT(*), window: [0, 14],
                time: ordered_at, exposure: exposed_at}
      aov:     {ratio: [revenue, orders]}                # wc.Ratio of the two metrics above
      latency_p95: {quantile: {column: latency_ms, q: 0.95}, direction: lower}
    caps:
      revenue: 0.99                                      # or [0.01, 0.99]

``wc.load_metrics("metrics.yaml", con)`` resolves ``source`` tables in ``con`` and returns a
:class:`MetricCatalog`: ``catalog["aov"]`` is the ``wc.Ratio``, ``catalog.caps`` goes to
``add_metric(cap=...)``, ``catalog.quantiles()`` to ``infer_quantiles``. In analysis files,
``"metrics_file": "metrics.yaml"`` lets ``metrics`` and ``quantiles`` name catalog entries.

A ratio's parts named in the catalog are its entries, shared by name: ``metrics: [revenue, orders,
aov]`` fits each once. Both parts must count over the same window (and time and exposure columns),
else the catalog is refused naming both windows. Every entry may declare ``direction: higher``
(the default), ``lower`` or ``neutral``, which way is good; ``wc.Metric`` and ``wc.Ratio`` entries
carry it into ``add_metric`` (decisions, memo and report colours), and ``catalog.directions`` lists
every declared one (a quantile's is informational: quantile effects carry no verdict or colour).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis.common.exceptions as ibis_errors
from ibis.backends import BaseBackend

from warehouse_causal.core import documents
from warehouse_causal.core.errors import InvalidParameterError, SchemaError
from warehouse_causal.design.metrics import Metric, check_ratio_windows
from warehouse_causal.design.percentile import Quantile
from warehouse_causal.design.ratios import Ratio
from warehouse_causal.meaning import Direction

__all__ = ["MetricCatalog", "load_metrics", "read_document"]

_METRIC_KEYS = {"source", "unit", "value", "window", "time", "exposure", "fill", "direction"}


@dataclass(frozen=True)
class MetricCatalog:
    """Named metric definitions (``wc.Metric``, ``wc.Ratio``, ``wc.Quantile``) and caps."""

    entries: Mapping[str, Metric | Ratio | Quantile]
    caps: Mapping[str, Any] = field(default_factory=dict)
    #: The declared direction of good of entries that declare one (``direction:`` in the file).
    directions: Mapping[str, Direction] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Metric | Ratio | Quantile:
        if name not in self.entries:
            raise InvalidParameterError(f"No metric {name!r} in the catalog; it has {sorted(self.entries)}.")
        return self.entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def quantiles(self) -> list[Quantile]:
        """Every percentile metric of the catalog."""
        return [e for e in self.entries.values() if isinstance(e, Quantile)]


def read_document(path: str | Path, what: str) -> dict[str, Any]:
    """A YAML (``.yaml``/``.yml``, needs PyYAML) or JSON file holding a mapping of ``what``, read
    within the document limits of :mod:`warehouse_causal.core.documents` (a regular file of at most
    1 MB, depth 32, 1,000 entries per list or mapping); anything else is a ``DocumentError``."""
    return documents.read_document(path, what)


def _read(source: str | Path | Mapping[str, Any]) -> Mapping[str, Any]:
    return source if isinstance(source, Mapping) else read_document(source, "metric definitions")


def load_metrics(source: str | Path | Mapping[str, Any], con: BaseBackend | None = None) -> MetricCatalog:
    """Read a metric catalog (module docstring): a YAML/JSON file or an already parsed mapping.
    ``con`` resolves the ``source`` tables of fact-table metrics."""
    document = _read(source)
    unknown = sorted(set(document) - {"metrics", "caps"})
    if unknown or not isinstance(document.get("metrics"), Mapping):
        raise InvalidParameterError(
            f"A metric catalog has a 'metrics' mapping and optional 'caps'; got keys {sorted(document)}.")
    definitions: Mapping[str, Any] = document["metrics"]
    for name, spec in definitions.items():
        if not isinstance(spec, Mapping):
            raise InvalidParameterError(f"Metric {name!r} of the catalog must be a mapping; got {spec!r}.")
    directions = {str(name): _direction(name, spec["direction"])
                  for name, spec in definitions.items() if "direction" in spec}
    facts = {name: _metric(name, spec, con) for name, spec in definitions.items()
             if "ratio" not in spec and "quantile" not in spec}  # built once: ratios share them by name
    entries: dict[str, Metric | Ratio | Quantile] = {}
    for name, spec in definitions.items():
        if "ratio" in spec:
            parts = spec["ratio"]
            keys = set(spec) - {"direction"}
            if keys != {"ratio"} or not isinstance(parts, (list, tuple)) or len(parts) != 2:
                raise InvalidParameterError(f"Ratio {name!r} must be {{ratio: [numerator, denominator]}} "
                                            "(optional: direction).")
            numerator, denominator = (_part(p, definitions, facts) for p in parts)
            check_ratio_windows(name, numerator, denominator, "The metric catalog")
            entries[name] = Ratio(name, numerator, denominator, direction=directions.get(name))
        elif "quantile" in spec:
            q = spec["quantile"]
            keys = set(spec) - {"direction"}
            if keys != {"quantile"} or not isinstance(q, Mapping) or set(q) != {"column", "q"}:
                raise InvalidParameterError(f"Quantile {name!r} must be {{quantile: {{column, q}}}} "
                                            "(optional: direction).")
            entries[name] = Quantile(name, q["column"], q["q"])
        else:
            entries[name] = facts[name]
    caps = dict(document.get("caps") or {})
    missing = sorted(set(caps) - set(entries))
    if missing:
        raise InvalidParameterError(f"The catalog caps {missing}, which are not metrics of it.")
    return MetricCatalog(entries, {k: tuple(v) if isinstance(v, list) else v for k, v in caps.items()},
                         directions)


def _direction(name: str, value: Any) -> Direction:
    """An entry's ``direction``: higher, lower or neutral (an empty one is an error, not higher)."""
    owner = f"the catalog's metric {name!r}"
    if not isinstance(value, str):
        raise InvalidParameterError(f"The 'direction' parameter of {owner} must be 'higher', 'lower' or "
                                    f"'neutral'. Got {value!r} instead.")
    return Direction.parse(value, "direction", owner)


def _metric(name: str, spec: Mapping[str, Any], con: BaseBackend | None) -> Metric:
    unknown = sorted(set(spec) - _METRIC_KEYS)
    if unknown or "source" not in spec or "value" not in spec or "unit" not in spec:
        raise InvalidParameterError(
            f"Metric {name!r} of the catalog needs source, unit and value (optional: window, time, "
            f"exposure, fill, direction); got keys {sorted(spec)}.")
    if con is None:
        raise InvalidParameterError(f"Metric {name!r} reads the table {spec['source']!r}: pass the "
                                    "connection, load_metrics(path, con).")
    unit = spec["unit"]
    window = spec.get("window")
    try:
        source = con.table(spec["source"])
    except ibis_errors.TableNotFound:
        raise SchemaError(f"Metric {name!r} of the catalog reads the table {spec['source']!r}, which is not "
                          "in the connection.", column=None) from None
    return Metric(name=name, source=source, value=spec["value"],
                  unit=tuple(unit) if isinstance(unit, list) else unit,
                  window=None if window is None else (float(window[0]), float(window[1])),
                  time=spec.get("time"), exposure=spec.get("exposure"), fill=float(spec.get("fill", 0.0)),
                  direction=_direction(name, spec["direction"]) if "direction" in spec else None)


def _part(part: Any, definitions: Mapping[str, Any], facts: Mapping[str, Metric]) -> Any:
    """A ratio's numerator or denominator: another fact-table metric of the catalog, by name (the
    same object as that entry, so the ratio and the entry are one metric), or a column / SQL
    expression of the experiment table."""
    if isinstance(part, str) and part in definitions:
        if part not in facts:
            raise InvalidParameterError(f"A ratio part must be a fact-table metric; {part!r} is not.")
        return facts[part]
    return part
