"""Sphinx extension: the Benchmarks page's results, read from ``benchmarks/results/``.

On ``builder-inited`` it writes ``docs/_generated/<section>.rst`` (included by
``benchmarks.rst``) and the figures they show, from the committed JSON files,
with the benchmark scripts' own table and plot functions: the page cannot
drift from the files, and it shows what a run of the script would print.
"""

import importlib.util
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"
GENERATED = Path(__file__).resolve().parent / "_generated"
# Files written before the scripts recorded the machine: the README says where
# the committed results come from.
README_MACHINE = "our 2-core CPU machine (as the README states)"


def _script(name):
    """A benchmark script as a module (it imports benchmarks/_results.py)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(
        f"benchmark_{name}", BENCHMARKS / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(path):
    return json.loads((RESULTS / path).read_text())


def _table(rows):
    """A Markdown table's lines as an rst list-table."""
    cells = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]
    cells = [  # without the separator row
        row for row in cells if not all(re.fullmatch(":?-{3,}:?", c) for c in row)
    ]
    # An empty cell is an rst comment; a lone "-" would start a bullet list.
    cells = [[{"": "..", "-": r"\-"}.get(cell, cell) for cell in row] for row in cells]
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in cells:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return lines + [""]


def markdown_to_rst(text):
    """The scripts' Markdown output (tables, ``###`` headings, lines) as rst."""
    out, table = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            out += _table(table)
            table = []
        if line.startswith("#"):
            out += [".. rubric:: " + line.lstrip("#").strip(), ""]
        elif line.strip():
            out += [line.replace("*", r"\*"), ""]
    return "\n".join(out)


def _environment(data):
    """The machine record of a result file, whichever form it has."""
    if isinstance(data, list):
        data = data[0]
    meta = data.get("meta") or {}
    return data.get("environment") or meta.get("environment") or meta or data


def machine(data):
    """One line on the machine a result comes from."""
    env = _environment(data)
    if "cpu_count" not in env:
        parts = [README_MACHINE]
    else:
        parts = [f"{env['cpu_count']} CPU cores"]
        if env.get("processor"):
            parts.append(env["processor"])
    threads = env.get("torch_threads", env.get("threads"))
    if threads:
        parts.append(f"{threads} torch threads")
    device = env.get("device_name") or env.get("device")
    if device and device not in parts:
        parts.append(f"device {device}")
    parts += [f"{key} {env[key]}" for key in ("torch", "python") if env.get(key)]
    if env.get("platform"):
        parts.append(env["platform"])
    return "**Machine:** " + ", ".join(parts) + "."


def command(script, data, fallback):
    """The command that wrote a result file, ``--data-home``'s folder as DIR."""
    env = _environment(data)
    argv = env.get("argv")
    if argv is None:
        return f"**Command:** ``{fallback}``"
    argv = ["DIR" if i and argv[i - 1] == "--data-home" else arg for i, arg in enumerate(argv)]
    return f"**Command:** ``{' '.join(['python', f'benchmarks/{script}.py', *argv])}``"


def _figure(path, alt):
    return [
        f".. image:: /_generated/{path.name}",
        f"   :alt: {alt}",
        "   :width: 75%",
        "",
    ]


def _pca_vs_ae(folder, fallback, figures):
    """Table, checks and figures of one pca_vs_ae.py output folder."""
    bench = _script("pca_vs_ae")
    records = _load(f"{folder}pca_vs_ae.json")
    report = _load(f"{folder}pca_vs_ae_checks.json")
    lines = [machine(report), "", command("pca_vs_ae", report, fallback), ""]
    lines.append(markdown_to_rst(bench.markdown(records)))
    for check in report["checks"] or []:
        status = "passed" if check["passed"] else "**failed**"
        lines += [f"- ``{check['dataset']}``: {check['rule']}: {status}", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in records):
        path = GENERATED / f"pca_vs_ae_{dataset}.png"
        if figures:
            bench.plot(records, dataset, path)
        lines += _figure(path, f"{dataset}: test error of each method")
    return "\n".join(lines)


def _single(script, path, table, fallback, figure=None, figures=True):
    """Machine, command and table (and a figure) of one result file."""
    data = _load(path)
    lines = [machine(data), "", command(script, data, fallback), ""]
    lines.append(markdown_to_rst(table(data)))
    if figure is not None:
        png = GENERATED / (path.replace("/", "_").removesuffix(".json") + ".png")
        if figures:
            figure(data, png)
        lines += _figure(png, f"{script}: {path}")
    return "\n".join(lines)


def sections(figures=True):
    """The rst of each section of the Benchmarks page, by file name."""
    speed, memory = _script("speed"), _script("memory")
    fit_time, ttq = _script("fit_time"), _script("time_to_quality")
    anomaly, wide_sparse = _script("anomaly"), _script("wide_sparse")
    more_epochs, defaults = _script("more_epochs"), _script("defaults")
    nested = _script("nested")
    fit_phases, precision = _script("fit_phases"), _script("precision")
    # Commands of files written before the scripts recorded their arguments:
    # pca_vs_ae_checks.json's "arguments" and fit_time's/memory's defaults.
    return {
        "pca_vs_ae": _pca_vs_ae(
            "", "python benchmarks/pca_vs_ae.py --out benchmarks/results", figures
        ),
        "mnist": _pca_vs_ae(
            "mnist/",
            "python benchmarks/pca_vs_ae.py --datasets mnist mnist_defaults "
            "--methods pca autoencoder --data-home DIR --out benchmarks/results/mnist",
            figures,
        ),
        "defaults": _single(
            "defaults",
            "defaults/defaults.json",
            defaults.markdown,
            None,
            figure=defaults.plot,
            figures=figures,
        ),
        "more_epochs": "\n".join(
            _single(
                "more_epochs",
                path,
                more_epochs.markdown,
                None,
                figure=more_epochs.plot,
                figures=figures,
            )
            for path in (
                "mnist_epochs/more_epochs.json",
                "mnist_epochs_auto_rates/more_epochs.json",
            )
        ),
        "speed": "\n".join(
            _single("speed", path, speed.markdown, None)
            for path in ("speed.json", "fused_baselines/speed.json")
        ),
        "fit_phases": _single(
            "fit_phases",
            "fit_phases/fit_phases.json",
            fit_phases.markdown,
            None,
            figure=fit_phases.plot,
            figures=figures,
        ),
        "precision": _single(
            "precision",
            "precision/precision.json",
            precision.markdown,
            None,
            figure=precision.plot,
            figures=figures,
        ),
        "memory": _single(
            "memory",
            "memory.json",
            memory.table,
            "python benchmarks/memory.py --out benchmarks/results",
        ),
        "wide_sparse": _single(
            "wide_sparse", "wide_sparse.json", wide_sparse.table, None, figures=figures
        ),
        "fit_time": _single(
            "fit_time",
            "fit_time.json",
            fit_time.markdown,
            "python benchmarks/fit_time.py --out benchmarks/results",
        ),
        "time_to_quality": "\n".join(
            _single(
                "time_to_quality",
                path,
                ttq.summary_table,
                None,
                figure=ttq.plot,
                figures=figures,
            )
            for path in (
                "time_to_quality.json",
                "mnist10k/time_to_quality.json",
                "mnist60k/time_to_quality.json",
            )
        ),
        "nested": "\n".join(
            _single(
                "nested",
                f"nested/{run}/nested.json",
                lambda data: nested.choose_markdown(data["choose"]),
                None,
                figure=nested.plot_choose,
                figures=figures,
            )
            for run in ("digits_seed0", "digits_seed1", "mnist_seed0", "mnist_seed1")
        ),
        "anomaly": "\n".join(
            _single(
                "anomaly", path, anomaly.markdown, None, figure=anomaly.plot, figures=figures
            )
            for path in ("anomaly/digits/anomaly.json", "anomaly/mnist_baselines/anomaly.json")
        ),
    }


def write(app=None, figures=True):
    """Write ``docs/_generated/<section>.rst`` (and the figures)."""
    GENERATED.mkdir(exist_ok=True)
    for name, text in sections(figures).items():
        path = GENERATED / f"{name}.rst"
        # Rewriting an unchanged file would make Sphinx rebuild the page.
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def setup(app):
    app.connect("builder-inited", write)
    return {"parallel_read_safe": True}
