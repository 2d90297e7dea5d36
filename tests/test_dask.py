"""Scaling out with Dask: a search on a cluster, training on the blocks of a dask array."""

import contextlib
import os
import re
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from _reliability_cases import FAST, make_data
from sklearn.model_selection import GridSearchCV
from test_concurrency import RecordThreads

from skae import AutoencoderTransformer

REASON = "needs the dask extra: pip install -e '.[dask]'"
da = pytest.importorskip("dask.array", reason=REASON)
distributed = pytest.importorskip("distributed", reason=REASON)
wrappers = pytest.importorskip("dask_ml.wrappers", reason=REASON)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = make_data(n_samples=200)
GRID = {"n_components": [1, 2], "hidden_layer_sizes": [(4,), (8,)]}
CV = 2


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes, as in the user guide."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


@contextlib.contextmanager
def one_torch_thread():
    """Run here with the one thread that each worker has."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cluster_search(client, tmp_path_factory):
    """One search on the cluster; each fit records its process and torch threads."""
    folder = tmp_path_factory.mktemp("threads")
    est = AutoencoderTransformer(**FAST, callbacks=[RecordThreads(str(folder))])
    # The refit of the best candidate runs here.
    with one_torch_thread(), joblib.parallel_backend("dask", client=client):
        search = GridSearchCV(est, GRID, cv=CV).fit(X)
    return search, folder


def test_search_on_a_cluster_equals_a_serial_search_with_as_many_threads(cluster_search):
    on_cluster, _ = cluster_search
    with one_torch_thread():
        serial = GridSearchCV(AutoencoderTransformer(**FAST), GRID, cv=CV, n_jobs=1).fit(X)
    assert on_cluster.best_params_ == serial.best_params_
    for key in ("mean_test_score", *(f"split{i}_test_score" for i in range(CV))):
        np.testing.assert_array_equal(on_cluster.cv_results_[key], serial.cv_results_[key])
    np.testing.assert_array_equal(
        on_cluster.best_estimator_.transform(X), serial.best_estimator_.transform(X)
    )


def test_workers_run_torch_with_the_one_thread_they_were_given(client, cluster_search):
    _, folder = cluster_search
    workers = {str(pid) for pid in client.run(os.getpid).values()}
    records = {path.name: path.read_text() for path in folder.iterdir()}
    # 4 candidates x 2 folds on the workers; the refit runs here.
    on_workers = {name: n for name, n in records.items() if name.split("-")[0] in workers}
    assert len(on_workers) == 4 * CV * FAST["max_epochs"]
    assert len(records) == len(on_workers) + FAST["max_epochs"]
    assert set(on_workers.values()) == {"1"}


def _blocks_loop(dX, params):
    est = AutoencoderTransformer(**params)
    for block in dX.blocks:
        est.partial_fit(block.compute())
    return est


@pytest.fixture(scope="module")
def chunked():
    data = make_data(n_samples=400, seed=1).astype(np.float32)
    return data, da.from_array(data, chunks=(100, data.shape[1]))


@pytest.mark.parametrize("scheduler", ["local", "cluster"])
def test_incremental_trains_like_a_loop_over_the_blocks(chunked, scheduler, request):
    data, dX = chunked
    params = {**FAST, "n_components": 2}
    expected = _blocks_loop(dX, params)
    incremental = wrappers.Incremental(AutoencoderTransformer(**params), shuffle_blocks=False)
    if scheduler == "cluster":
        # partial_fit runs on the workers, the model travelling between them.
        client = request.getfixturevalue("client")
        with client.as_current(), distributed.get_task_stream(client) as tasks:
            incremental.fit(dX)
        ran = [task for task in tasks.data if "fit-" in str(task["key"])]
        assert len(ran) >= dX.numblocks[0]
    else:
        incremental.fit(dX)
    est = incremental.estimator_
    assert est.n_iter_ == expected.n_iter_ == dX.numblocks[0]
    np.testing.assert_array_equal(est.transform(data), expected.transform(data))


def test_transform_of_a_dask_array_block_by_block(chunked):
    data, dX = chunked
    est = _blocks_loop(dX, FAST)
    codes = dX.map_blocks(
        est.transform, chunks=(dX.chunks[0], (est.n_components,)), dtype=dX.dtype
    )
    assert codes.shape == (len(data), est.n_components)
    np.testing.assert_array_equal(codes.compute(), est.transform(data))


def _guide_snippets():
    guide = Path(__file__).resolve().parents[1] / "docs/user_guide/scaling_out.rst"
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", guide.read_text())
    return [textwrap.dedent(block) for block in blocks]


def test_the_user_guide_has_the_snippets_tested_here():
    snippets = _guide_snippets()
    assert len(snippets) == 4
    assert [("LocalCluster" in code) for code in snippets] == [True, False, False, True]


# The snippets that start a cluster of their own are left to the docs' readers.
@pytest.mark.parametrize("index, n_iter", [(1, 60), (2, 12)], ids=["dask_array", "memmap"])
def test_user_guide_streaming_snippets_run(index, n_iter, capsys):
    namespace = {"__name__": "snippet"}
    exec(_guide_snippets()[index], namespace)
    assert namespace["ae"].n_iter_ == n_iter
    assert capsys.readouterr().out.split() in (["(1797,", "8)"], ["12"])
