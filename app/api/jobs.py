"""Scheduled-job history for admins: GET /api/v1/jobs/runs."""
from __future__ import annotations

from datetime import datetime

from flask import request

from app.api.core import api_endpoint, paginate
from app.jobs import job_runs_query
from app.models import JobRun


def _utc(value: datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def job_run_json(run: JobRun) -> dict:
    return {
        "id": run.id, "job": run.job, "scheduled_for": _utc(run.scheduled_for),
        "started_at": _utc(run.started_at), "finished_at": _utc(run.finished_at),
        "duration_ms": run.duration_ms, "result": run.result, "error": run.error, "host": run.host,
    }


@api_endpoint("/jobs/runs", "GET", roles=("admin",), summary="Scheduled job runs, newest first",
              query={"job": "string"})
def jobs_list_runs():
    return paginate(job_runs_query(request.args.get("job") or None), job_run_json)
