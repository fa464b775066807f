"""Prefect's record of ingest runs that died with their process (kill -9, a power cut):
marked Crashed, with why, by the next run of the same home and by `kb schedule`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kb.schedule.record import FLOW_NAME


def mark_crashed_runs(home: str | Path, *, exclude: Any = None) -> int:
    """Mark `ingest` flow runs of `home` still `Running` in Prefect as Crashed, with why.

    Call only while no ingest of `home` can be running (holding the ingest lock, or
    having found it free): such runs died with their process (kill -9, power cut) and
    Prefect would show them running for ever. Returns how many were marked.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.states import Crashed

    wanted = str(Path(home).resolve())
    marked = 0
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))
            ),
            sort=FlowRunSort.ID_DESC,
            limit=200,
        )
        for run in runs:
            if exclude is not None and run.id == exclude:
                continue
            if str(Path(str(run.parameters.get("home", ""))).resolve()) != wanted:
                continue
            message = (
                "crashed: its process ended without finishing (killed, or its machine stopped); "
                f"found at {datetime.now(UTC).isoformat(timespec='seconds')} when no ingest of "
                f"{wanted} was running"
            )
            client.set_flow_run_state(run.id, Crashed(message=message), force=True)
            marked += 1
    return marked
