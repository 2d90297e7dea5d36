"""One fitted model shared by threads; parallel searches without oversubscription."""

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from _reliability_cases import ESTIMATORS, FAST, estimator_id, make_data
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = make_data(n_samples=200)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=estimator_id)
def test_threads_sharing_a_fitted_model_agree_with_serial_calls(estimator):
    est = clone(estimator).fit(X)
    pieces = np.array_split(X, 16)
    jobs = [(method, piece) for piece in pieces for method in ("transform", "score_samples")]
    jobs += [("inverse_transform", est.transform(piece)) for piece in pieces]
    serial = [getattr(est, method)(data) for method, data in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(lambda job: getattr(est, job[0])(job[1]), jobs * 3))
    for i, result in enumerate(threaded):
        np.testing.assert_array_equal(result, serial[i % len(jobs)])


class RecordThreads:
    """A picklable callback: each worker's fit writes torch's thread count to a file."""

    def __init__(self, folder):
        self.folder = folder

    def __call__(self, est):
        # A fresh name per call: id(est) can come back for the next fit in a worker.
        path = os.path.join(self.folder, f"{os.getpid()}-{uuid.uuid4().hex}")
        with open(path, "w") as file:
            file.write(str(torch.get_num_threads()))


def test_grid_search_in_two_processes_does_not_oversubscribe(tmp_path):
    est = AutoencoderTransformer(**FAST, callbacks=[RecordThreads(str(tmp_path))])
    search = GridSearchCV(est, {"n_components": [1, 2]}, cv=2, n_jobs=2).fit(X)
    assert search.best_params_["n_components"] == 2
    records = list(tmp_path.iterdir())
    # 2 candidates x 2 folds, then the refit, each for max_epochs epochs.
    assert len(records) == 5 * FAST["max_epochs"]
    pids = {path.name.split("-")[0] for path in records}
    assert str(os.getpid()) in pids and len(pids) >= 2  # the refit runs here
    budget = max(1, os.cpu_count() // 2)
    worker_threads = [
        int(path.read_text())
        for path in records
        if path.name.split("-")[0] != str(os.getpid())
    ]
    assert worker_threads and max(worker_threads) <= budget
