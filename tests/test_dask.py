"""The ingest flow with its tasks on a Dask cluster (prefect-dask), against a local cluster."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pdf_fixtures import make_pdf

from kb.errors import KBError

distributed = pytest.importorskip("distributed")


def _small_corpus(root: Path) -> Path:
    root.mkdir()
    make_pdf(root / "manual.pdf", [["Module 1. Victim identification", "Indicators of labour exploitation."],
                                  ["Module 2. Referral", "The national referral mechanism in Mary."]],
             outline=[("Module 1. Victim identification", 1, 1), ("Module 2. Referral", 1, 2)])  # fmt: skip
    (root / "news.html").write_text(
        "<html lang='en'><head><title>Hotline campaign</title></head><body><main><h1>Hotline campaign</h1>"
        "<h2>Results</h2><p>The hotline answered calls from labour migrants in Ashgabat.</p></main></body></html>",
        encoding="utf-8",
    )
    (root / "note.md").write_text(
        "# Field note\n\n## Shelter\n\nThe shelter in Dashoguz hosted victims of trafficking.\n",
        encoding="utf-8",
    )
    return root


def test_address_that_is_not_a_scheduler_fails_fast_with_one_line() -> None:
    from flows.dask_runner import check_scheduler, scheduler_endpoint

    assert scheduler_endpoint("tcp://scheduler:8786") == ("scheduler", 8786)
    assert scheduler_endpoint("10.0.0.5") == ("10.0.0.5", 8786)
    started = time.perf_counter()
    with pytest.raises(KBError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        check_scheduler("tcp://127.0.0.1:9")
    assert time.perf_counter() - started < 6
    with pytest.raises(KBError, match="expected a scheduler address"):
        scheduler_endpoint("http://scheduler:8786")


@pytest.mark.flow
@pytest.mark.slow
def test_ingest_runs_its_tasks_on_a_local_dask_cluster(prefect_api: str, tmp_path: Path) -> None:
    # The session's Prefect server is in the environment before the cluster starts, so
    # the workers report to it (as workers of a real cluster report to `prefect server`).
    from flows.dask_runner import ingest_on_dask, prefect_api_for_workers
    from search.query import search

    home = tmp_path / "home"
    with prefect_api_for_workers() as url:
        assert url == prefect_api  # a configured API is used, no temporary server started
    corpus = _small_corpus(tmp_path / "corpus")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        summary = ingest_on_dask(cluster.scheduler_address, home=str(home), corpus=str(corpus))
        # The scheduler ran the flow's submitted tasks (check, extract, segment and tag) on its workers.
        task_prefixes = client.run_on_scheduler(
            lambda dask_scheduler: sorted(dask_scheduler.task_prefixes)
        )
    assert summary["sources"]["new"] == 3
    assert summary["totals"]["documents"] == 3
    assert not summary["failures"]
    assert task_prefixes, "no task ran on the Dask cluster"
    hits = search("referral mechanism", home=home).hits
    assert hits and hits[0].title
