"""Sphinx configuration: the API from numpydoc docstrings, and a gallery of examples.

Build offline with ``python -m sphinx -b html docs docs/_build/html``; the
gallery's examples run during the build. ``-D plot_gallery=0`` skips running
them.
"""

import inspect
import os
import re
import sys
from pathlib import Path

import torch

import skae

# The examples' networks are small: one thread is as fast as several and does
# not fight other jobs for the cores. OMP_NUM_THREADS overrides it.
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))

project = "skae"
author = "the skae developers"
copyright = "the skae developers"
version = release = skae.__version__

# benchmark_results (in docs/) writes the Benchmarks page's tables from the
# committed JSON files.
sys.path.insert(0, str(Path(__file__).parent))
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "benchmark_results",
]
# No intersphinx: the build must work offline, so references to scikit-learn,
# PyTorch and matplotlib objects render as plain names.

templates_path = ["_templates"]
# The gallery's sources: sphinx-gallery turns them into auto_examples/.
exclude_patterns = ["_build", "examples", "_generated"]
default_role = "literal"

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# Methods are documented in full by autodoc (see _templates); numpydoc's own
# member tables would repeat them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "pydata_sphinx_theme"
html_title = f"skae {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # Examples get the full width for their code and figures.
    "secondary_sidebar_items": {"auto_examples/*": []},
}
html_sidebars = {"index": []}

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    # "Examples using ..." sections in the API pages.
    "doc_module": ("skae",),
    "backreferences_dir": "gen_modules/backreferences",
    "download_all_examples": False,
    "remove_config_comments": True,
    # Plot functions return their figure; its repr adds nothing to the page.
    "ignore_repr_types": r"matplotlib\.(figure|text|axes)",
    "min_reported_time": 1,
}


# Offline, there is no glossary and no scikit-learn documentation to link to.
# Glossary terms (scikit-learn's docstring style) render as literals, and the
# cross-references of inherited scikit-learn docstrings keep only their text.
_TERM = re.compile(r":term:`([^`<]*?)(?:\s*<[^>]*>)?`")
_TITLED_REF = re.compile(r":ref:`([^`<]*?)\s*<[^>]*>`")
_BARE_REF = re.compile(r":ref:`[^`]*`")


def _offline_references(app, what, name, obj, options, lines):
    from_sklearn = getattr(obj, "__module__", "").startswith("sklearn.")
    for i, line in enumerate(lines):
        line = _TERM.sub(r"``\1``", line)
        if from_sklearn:
            line = _TITLED_REF.sub(r"\1", line)
            line = _BARE_REF.sub("scikit-learn's documentation", line)
        lines[i] = line


def _from_sklearn(member):
    return (getattr(member, "__module__", None) or "").startswith("sklearn.")


def _skip_sklearn_members(app, what, name, obj, skip, options):
    """Leave scikit-learn's inherited methods to scikit-learn's documentation."""
    return True if _from_sklearn(obj) else None


def _point_to_sklearn(app, what, name, obj, options, lines):
    """Name, under a skae class, the methods it inherits from scikit-learn."""
    if what != "class" or not inspect.isclass(obj) or _from_sklearn(obj):
        return
    inherited = sorted(
        member
        for member, value in inspect.getmembers(obj, callable)
        if not member.startswith("_") and _from_sklearn(value)
    )
    if inherited:
        names = ", ".join(f"``{member}``" for member in inherited)
        lines += [
            "",
            ".. rubric:: Inherited from scikit-learn",
            "",
            f"{names}: these work as for every scikit-learn transformer; see "
            "scikit-learn's documentation of ``BaseEstimator`` and "
            "``TransformerMixin``.",
        ]


def setup(app):
    app.connect("autodoc-process-docstring", _offline_references)
    app.connect("autodoc-process-docstring", _point_to_sklearn)
    app.connect("autodoc-skip-member", _skip_sklearn_members)
