"""Sphinx configuration of the API reference, generated from the package's docstrings.

Built in CI with warnings as errors: ``python -m sphinx -W --keep-going -b html docs docs/_build``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

project = "warehouse_causal"
author = "warehouse_causal developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
autosummary_generate = True
autodoc_typehints = "none"  # signatures carry them; the docstrings state the maths and sources
# A package's __init__ re-exports its modules' functions (``algebra.sandwich`` is a module and a
# function): document each object once, where it is defined.
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# Types in "name : type" lines are words (shapes, units), not references to resolve.
napoleon_use_param = False
napoleon_use_rtype = False
# "Attributes" sections as fields of the class, not second descriptions of its properties.
napoleon_use_ivar = True
nitpicky = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
