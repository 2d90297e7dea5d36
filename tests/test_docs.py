"""The README's first snippet runs as pasted; the Benchmarks page shows the committed JSON."""

import json
from pathlib import Path

import pytest
from _scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def test_readme_first_python_block_runs_as_pasted():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["Z"].shape == (1797, 2)
    assert namespace["X_hat"].shape == namespace["X"].shape


@pytest.fixture(scope="module")
def page():
    return load_script("docs/benchmark_results.py")


@pytest.fixture(scope="module")
def sections(page):
    return page.sections(figures=False)


def _cells(rst):
    """The list-table cells of generated rst."""
    return {
        line.strip()[2:].strip()
        for line in rst.splitlines()
        if line.strip().startswith(("* - ", "- "))
    }


def test_every_section_names_its_machine_and_command(sections):
    assert set(sections) == {
        "pca_vs_ae",
        "mnist",
        "defaults",
        "more_epochs",
        "speed",
        "memory",
        "wide_sparse",
        "fit_time",
        "time_to_quality",
        "anomaly",
        "nested",
        "fit_phases",
        "precision",
    }
    for text in sections.values():
        assert "**Machine:**" in text and "**Command:** ``python benchmarks/" in text
        assert ".. list-table::" in text


@pytest.mark.parametrize("folder", ["mnist_epochs", "mnist_epochs_auto_rates"])
def test_more_epochs_section_holds_every_run_and_check(sections, folder):
    report = json.loads((RESULTS / folder / "more_epochs.json").read_text())
    cells = _cells(sections["more_epochs"])
    for r in report["records"]:
        assert str(r["test_sse_per_image"]) in cells and str(r["fit_seconds"]) in cells
    for check in report["checks"]:
        verdict = "PASS" if check["passed"] else "FAIL"
        assert f"{verdict} {check['setting']} seed {check['seed']}" in sections["more_epochs"]


def test_defaults_section_holds_every_run_and_check(sections):
    report = json.loads((RESULTS / "defaults" / "defaults.json").read_text())
    cells = _cells(sections["defaults"])
    for r in report["records"]:
        assert f"{r['ratio_to_pca']:.4g}" in cells and str(r["fit_seconds"]) in cells
    assert report["checks"] and all(check["passed"] for check in report["checks"])
    for check in report["checks"]:
        assert f"PASS {check['dataset']}:" in sections["defaults"]


@pytest.mark.parametrize("run", ["digits_seed0", "digits_seed1", "mnist_seed0", "mnist_seed1"])
def test_nested_section_holds_every_route(sections, run):
    report = json.loads((RESULTS / "nested" / run / "nested.json").read_text())
    cells = _cells(sections["nested"])
    for route in report["choose"]["routes"]:
        assert f"{route['seconds']:.1f}" in cells and f"{route['time_share']:.3f}" in cells
        assert " ".join(f"{r2:.3f}" for r2 in route["cv_r2"]) in cells


def test_pca_vs_ae_tables_hold_the_json_numbers(sections):
    cells = _cells(sections["pca_vs_ae"])
    records = json.loads((RESULTS / "pca_vs_ae.json").read_text())
    for r in records:
        assert f"{r['test_mse'] / r['test_variance']:.3g}" in cells, r
    assert "PCA exact" in cells
    mnist = _cells(sections["mnist"])
    for r in json.loads((RESULTS / "mnist" / "pca_vs_ae.json").read_text()):
        assert f"{r['test_sse_per_image']:.2f}" in mnist
        assert f"{r['fit_seconds']:.1f}" in mnist


def test_other_tables_hold_the_json_numbers(sections):
    speed = json.loads((RESULTS / "speed.json").read_text())
    cells = _cells(sections["speed"])
    for workload in speed["workloads"].values():
        for contender in workload["contenders"].values():
            assert f"{1000 * contender['median_epoch_seconds']:.1f}" in cells
    memory = json.loads((RESULTS / "memory.json").read_text())
    cells = _cells(sections["memory"])
    for method in memory["methods"].values():
        assert str(method["peak_rss_increase_mb"]) in cells
    cells = _cells(sections["wide_sparse"])
    for r in json.loads((RESULTS / "wide_sparse.json").read_text())["runs"]:
        assert str(r["fit_seconds"]) in cells and str(r["truncated_svd_seconds"]) in cells
    cells = _cells(sections["fit_time"])
    for r in json.loads((RESULTS / "fit_time.json").read_text()):
        assert f"{r['fit_seconds']:.3f}" in cells
    cells = _cells(sections["time_to_quality"])
    for path in ("", "mnist10k/", "mnist60k/"):
        report = json.loads((RESULTS / path / "time_to_quality.json").read_text())
        for run in report["runs"].values():
            assert f"{run['best_test_sse']:.3f}" in cells
    cells = _cells(sections["anomaly"])
    for path in ("anomaly/digits", "anomaly/mnist_baselines"):
        for r in json.loads((RESULTS / path / "anomaly.json").read_text())["records"]:
            assert f"{r['roc_auc']:.4f}" in cells and f"{r['average_precision']:.4f}" in cells


def test_fit_phases_and_precision_sections_hold_the_json_numbers(sections):
    cells = _cells(sections["fit_phases"])
    report = json.loads((RESULTS / "fit_phases" / "fit_phases.json").read_text())
    for data in report["datasets"].values():
        for fit in data["fits"]:
            assert f"{fit['before']:.3f}" in cells and f"{fit['after']:.3f}" in cells
            assert f"{fit['median_epoch']:.3f}" in cells
    cells = _cells(sections["precision"])
    report = json.loads((RESULTS / "precision" / "precision.json").read_text())
    for r in report["records"]:
        assert r["chosen"] in cells and f"{r['chosen_vs_fastest']:.3f}" in cells
        assert f"{r['epoch_seconds']['float32']:.3f}" in cells


def test_markdown_tables_become_list_tables(page):
    rst = page.markdown_to_rst("### title\n\n| a | b |\n|---|---:|\n| - |  |\nnote *x*")
    assert rst.split("\n") == [
        ".. rubric:: title",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - a",
        "     - b",
        r"   * - \-",
        "     - ..",
        "",
        r"note \*x\*",
        "",
    ]
