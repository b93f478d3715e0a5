"""Pages: the job history and run-now for admins, the auto-close switch, and the notices
panel on the supervisor's home (dismissed with a POST)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from app import jobs
from app.extensions import db
from app.forms import form_view
from app.jobs_admin.forms import AutoCloseForm, DismissForm, RunJobForm
from app.main.views import HOME_PANELS
from app.models import JobRun, Notice
from app.paging import int_arg, paged
from app.permissions import get_visible_or_404, require_roles
from app.services import jobs_service, notices
from app.submission import form_status, record_once
from app.templating import NAV_EXTRA

bp = Blueprint("jobs_admin", __name__)

NAV_EXTRA.append(("jobs_admin.history", _l("Scheduled jobs"), ("admin",)))

# What a run's result words mean, in the reader's language (see jobs_service.summary).
RESULT_LABELS = {
    "overdue": _l("overdue batches"), "marked": _l("newly overdue"), "cleared": _l("no longer overdue"),
    "notices_opened": _l("notices opened"), "notices_resolved": _l("notices resolved"),
    "checked": _l("orders checked"), "at_risk": _l("orders at risk"), "changed": _l("forecasts changed"),
    "period": _l("pay period"), "closed": _l("closed"), "payslips": _l("payslips"),
    "already_closed": _l("already closed"), "waiting_until_day": _l("waits until day"),
    "skipped": _l("skipped"), "file": _l("file"), "bytes": _l("bytes"), "removed": _l("old copies removed"),
    "statistics_refreshed": _l("planner statistics refreshed"),
}
RESULT_PHRASES = {
    "switched off": _l("switched off"),
}


def describe_result(result: str | None) -> str:
    """``overdue=3 marked=1`` → ``overdue batches: 3 · newly overdue: 1`` in the reader's language."""
    if not result:
        return ""
    if result in RESULT_PHRASES:
        return str(RESULT_PHRASES[result])
    words = []
    for word in result.split():
        key, sep, value = word.partition("=")
        words.append(f"{RESULT_LABELS[key]}: {value}" if sep and key in RESULT_LABELS else word)
    return " · ".join(words)


WEEKDAYS = {"mon": _l("Monday"), "tue": _l("Tuesday"), "wed": _l("Wednesday"), "thu": _l("Thursday"),
            "fri": _l("Friday"), "sat": _l("Saturday"), "sun": _l("Sunday")}


def describe_schedule(expr: str | None) -> str:
    """A cron expression in words, in the reader's language: ``*/15 * * * *`` → "every 15
    minutes", ``30 1 * * *`` → "every day at 01:30". Shapes it does not know keep the
    expression, said to be one."""
    try:
        fields = jobs.cron_fields(expr or "")
    except ValueError:
        fields = {}
    if fields is None:
        return str(_("Off"))
    f = fields or {}
    sec, minute, hour, day, month, dow = (f.get(k, "?") for k in ("second", "minute", "hour", "day", "month",
                                                                   "day_of_week"))
    fixed = {"month": month == "*"}
    if sec == "0" and fixed["month"]:
        if hour == "*" and day == "*" and dow == "*":
            if minute == "*":
                return str(_("Every minute"))
            if minute.startswith("*/") and minute[2:].isdigit():
                return str(_("Every %(n)s minutes", n=int(minute[2:])))
            if minute.isdigit():
                return str(_("Every hour at %(m)s minutes past", m=int(minute)))
        if minute.isdigit() and hour.isdigit():
            at = f"{int(hour):02d}:{int(minute):02d}"
            if day == "*" and dow == "*":
                return str(_("Every day at %(at)s", at=at))
            if day == "*" and dow in WEEKDAYS:
                return str(_("Every %(weekday)s at %(at)s", weekday=WEEKDAYS[dow], at=at))
            if day.isdigit() and dow == "*":
                return str(_("Day %(d)s of every month at %(at)s", d=int(day), at=at))
    return str(_("Custom schedule (%(expr)s)", expr=expr))


@bp.app_template_filter("schedule_words")
def schedule_words_filter(expr):
    return describe_schedule(expr)


@bp.app_template_filter("job_result")
def job_result_filter(result):
    return describe_result(result)


# --- history


@bp.get("/admin/jobs")
@require_roles("admin")
def history():
    job = request.args.get("job") or None
    if job not in jobs.JOBS:
        job = None
    runs = paged(jobs.job_runs_query(job), int_arg("page"), per_page=50)
    last = {name: at for name, at in db.session.execute(
        select(JobRun.job, func.max(JobRun.scheduled_for)).group_by(JobRun.job))}
    return render_template(
        "jobs_admin/history.html", runs=runs.items, total=runs.total, page=runs.page, per_page=runs.per_page, job=job,
        specs=jobs.JOBS, schedules=jobs.schedules(current_app), last=last,
        run_form=RunJobForm(), auto=jobs_service.auto_close_settings(),
    )


@bp.post("/admin/jobs/run")
@require_roles("admin")
@form_view
def run_now():
    form = RunJobForm()
    if not form.validate_on_submit():
        flash(_("Choose a job to run."), "error")
        return redirect(url_for(".history"))
    outcome = jobs.run_claimed(form.job.data)
    label = jobs.JOBS[form.job.data].label
    run = outcome.run
    if run is None:
        flash(_("%(job)s: this second's run was already started elsewhere.", job=label), "warning")
    elif run.error:
        flash(_("%(job)s failed: %(error)s", job=label, error=run.error), "error")
    else:
        flash(_("%(job)s done: %(result)s", job=label, result=describe_result(run.result)), "success")
    return redirect(url_for(".history", job=form.job.data))


# --- the auto-close switch


@bp.route("/admin/jobs/auto-close", methods=["GET", "POST"])
@require_roles("admin")
@form_view
def auto_close():
    settings = jobs_service.auto_close_settings()
    form = AutoCloseForm(data={"enabled": settings.enabled, "day": settings.day})
    if form.validate_on_submit():
        def action():
            jobs_service.save_auto_close(form.enabled.data, form.day.data, user=current_user)
            return url_for(".auto_close"), _("Saved.")

        if done := record_once(form, action):
            return done
    return render_template("jobs_admin/auto_close.html", form=form, settings=settings), form_status(form)


# --- notices on the supervisor's home

NOTICE_LINKS = {
    # kind → (endpoints of the record's page, URL parameter)
    notices.OVERDUE_BATCH: (("batches.batch_detail",), "batch_id"),
    notices.ORDER_AT_RISK: (("orders.order_detail",), "order_id"),
}


def notice_link(shown: notices.ShownNotice) -> str | None:
    endpoints, param = NOTICE_LINKS.get(shown.notice.kind, ((), ""))
    for endpoint in endpoints:
        try:
            values: dict = {param: shown.notice.entity_id}
            return url_for(endpoint, **values)
        except BuildError:
            continue
    return None


NOTICE_GROUP_LABELS = {
    # kind → (label, tag style, endpoint of the page listing them all)
    notices.OVERDUE_BATCH: (_l("Overdue batches"), "tag-bad", "batches.overdue_batches"),
    notices.ORDER_AT_RISK: (_l("Orders at risk"), "tag-warn", "orders.board"),
}


def notice_group_link(kind: str) -> str:
    return url_for(NOTICE_GROUP_LABELS[kind][2])


def notices_panel():
    groups = notices.open_notice_groups()
    return "jobs_admin/_notices_panel.html", {
        "groups": groups, "notice_count": sum(g.count for g in groups), "notice_link": notice_link,
        "group_link": notice_group_link, "labels": NOTICE_GROUP_LABELS, "dismiss_form": DismissForm(),
    }


HOME_PANELS["supervisor"].append(notices_panel)


@bp.post("/notices/<int:notice_id>/dismiss")
@require_roles("supervisor", "admin")
def dismiss_notice(notice_id):
    notice = get_visible_or_404(Notice, notice_id)
    if not DismissForm().validate_on_submit():
        flash(_("This page was open too long. Please try again."), "warning")
        return redirect(url_for("main.home"))
    notices.dismiss(notice)
    db.session.commit()
    flash(_("Notice dismissed."), "success")
    return redirect(url_for("main.home"))


@bp.post("/notices/dismiss-kind/<kind>")
@require_roles("supervisor", "admin")
def dismiss_notice_kind(kind):
    if kind not in NOTICE_GROUP_LABELS:
        abort(404)
    if not DismissForm().validate_on_submit():
        flash(_("This page was open too long. Please try again."), "warning")
        return redirect(url_for("main.home"))
    n = notices.dismiss_kind(kind)
    db.session.commit()
    flash(_("%(n)s notices dismissed.", n=n), "success")
    return redirect(url_for("main.home"))
