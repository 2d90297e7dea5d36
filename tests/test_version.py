"""The version lives in skae/__init__.py; the distribution and the docs read it from there."""

import importlib.metadata
import runpy
import sys
from pathlib import Path

import pytest
import torch

import skae

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_reads_the_version_from_the_package():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "skae.__version__"}


def test_installed_distribution_has_the_package_version():
    installed = importlib.metadata.version("skae")
    assert installed == skae.__version__, (
        f"the installed metadata says {installed}: reinstall (pip install -e .)"
    )


def test_docs_have_the_package_version(monkeypatch):
    # conf.py sets torch's thread count and extends sys.path for the docs build;
    # neither may leak into the tests.
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    monkeypatch.setattr(sys, "path", list(sys.path))
    conf = runpy.run_path(str(ROOT / "docs" / "conf.py"))
    assert conf["version"] == conf["release"] == skae.__version__
    assert conf["html_title"] == f"skae {skae.__version__}"
