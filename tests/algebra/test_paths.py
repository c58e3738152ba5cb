"""Path algebra against the published Hayes (2018) PROCESS model 6 example (moment matrix from
shared/reference/mediation_policy_ope.md §1.8a) and the JOBS II numbers of R mediation."""

from __future__ import annotations

import numpy as np
import pytest

from warehouse_causal.algebra.paths import (
    classical_covariance,
    enumerate_paths,
    fit_paths,
    path_effects,
    path_gradient,
)

NAMES = ("1", "cond", "gender", "age", "import", "pmi", "reaction")
UPPER = [123, 58, 43, 3029.5, 517, 689, 428.5, 58, 24, 1437.5, 263, 339.5, 217.25, 43, 1167, 178, 242.5,
         148.5, 78722.25, 12824, 16965.5, 10462.125, 2541, 2975, 1953.75, 4072.5, 2511.875, 1786]
#: The reference prints 8 decimals and reproduces lavaan "to 1e-8".
ML_SE_ATOL = 1e-8
NODES = (("import", ()), ("pmi", ("import",)), ("reaction", ("import", "pmi")))


def _c() -> np.ndarray:
    c = np.zeros((7, 7))
    c[np.triu_indices(7)] = UPPER
    return c + np.triu(c, 1).T


def _system(covariates: tuple[str, ...]):
    keep = ["1", "cond", *covariates, "import", "pmi", "reaction"]
    ix = [NAMES.index(k) for k in keep]
    return fit_paths(_c()[np.ix_(ix, ix)], tuple(keep), "cond", ("1", "cond", *covariates), NODES, 123.0)


def test_paths_are_enumerated_in_depth_first_order() -> None:
    assert enumerate_paths("cond", NODES) == [
        ("cond", "import", "pmi", "reaction"), ("cond", "import", "reaction"),
        ("cond", "pmi", "reaction"), ("cond", "reaction")]


@pytest.mark.parametrize(("covariates", "expected", "total"), [
    ((), {("cond", "import", "reaction"): (0.203344, 0.109844, 0.10880095),
          ("cond", "pmi", "reaction"): (0.140204, 0.097882, 0.09663569),
          ("cond", "import", "pmi", "reaction"): (0.048750, 0.031454, 0.03112699),
          ("cond", "reaction"): (0.103391, 0.239099, 0.23517914)}, 0.4956896552),
    (("gender", "age"), {("cond", "import", "reaction"): (0.218374, None, 0.11240224),
                         ("cond", "pmi", "reaction"): (0.135893, None, 0.09613265),
                         ("cond", "import", "pmi", "reaction"): (0.051022, None, 0.03175547),
                         ("cond", "reaction"): (0.100202, None, 0.23512384)}, 0.5054908894),
])
def test_hayes_model_6(covariates, expected, total) -> None:
    system = _system(covariates)
    classical, ml = classical_covariance(system), classical_covariance(system, ml=True)
    paths = enumerate_paths("cond", NODES)
    for path in paths:
        estimate, se_classical, se_ml = expected[path]
        g = path_gradient(system, path)
        assert path_effects(system, path, system.theta) == pytest.approx(estimate, abs=5e-7)
        assert np.sqrt(g @ ml @ g) == pytest.approx(se_ml, abs=ML_SE_ATOL)
        if se_classical is not None:
            assert np.sqrt(g @ classical @ g) == pytest.approx(se_classical, abs=5e-7)
    assert sum(path_effects(system, p, system.theta) for p in paths) == pytest.approx(total, abs=1e-10)
    assert system.total == pytest.approx(total, abs=1e-10)


def test_jobs_indirect_effect_and_delta_se() -> None:
    upper = [899, 600, 2718.699999, 482, 33770.99182, 3634.966663, 1565.520201, 600, 1813.299999, 310,
             22613.12056, 2439.466665, 1032.2, 9095.528601, 1431.629999, 102128.8334, 11039.21832,
             4850.241048, 482, 18236.82468, 1945.63333, 860.7090913, 1366700.181, 137001.5463, 58774.67748,
             15173.91219, 6221.924572, 3107.626719]
    c = np.zeros((7, 7))
    c[np.triu_indices(7)] = upper
    c = c + np.triu(c, 1).T
    labels = ("1", "treat", "econ_hard", "sex", "age", "job_seek", "depress2")
    nodes = (("job_seek", ()), ("depress2", ("job_seek",)))
    system = fit_paths(c, labels, "treat", labels[:5], nodes, 899.0)
    path = ("treat", "job_seek", "depress2")
    assert path_effects(system, path, system.theta) == pytest.approx(-0.0157446450, abs=2e-10)
    g = path_gradient(system, path)
    assert np.sqrt(g @ classical_covariance(system) @ g) == pytest.approx(0.012489, abs=5e-7)
