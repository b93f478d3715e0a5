"""Honest forecasts: replay a station's history through the plan (docs/pace.md).

At each past day a step of a product was handed out, the plan is asked what it would have
said then, from the data before that day only: each worker's pace (``planning.worker_paces``
as of the day before, with what each held that morning) and the split of the pieces handed
out that day, due on the latest due date of that day's batches (``planning.split``). Each
planned line is then held against what that worker really did from that day on:

- **pace error**: the pace the plan used against the worker's real accepted pieces a day
  from the issue day to the due date (both counted; all their work, in this step's pieces by
  rate). MAPE is the mean of |forecast − real| / real over the lines whose worker made
  anything in that time; lines whose worker made nothing are counted apart (``idle``).
- **on time**: the line's pieces, after what the worker already held that competes with
  them (``planning.competing_load100``: due by the line's due date in full, due later for
  the share of its days by then), come back (accepted
  or rejected, by rate) on the worker's real returns from the issue day on; the line is on
  time when that day is on or before the due date.

Days whose due date is after the last return recorded are left out (their outcome is not
known yet). Reads only.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models import Batch, ProductStep, Return
from app.services import planning
from app.services.planning import _BATCH_RATE_COLUMN as _BATCH_RATE
from app.services.planning import _RATE_COLUMN as _RETURN_RATE


@dataclass
class Line:
    day: date
    step_id: int
    worker_id: int
    quantity: int
    due_date: date
    pace: Decimal          # what the plan used, pieces a day
    real_pace: Decimal     # accepted pieces a day, issue day to due date
    back_on: date | None   # when the line's pieces would have come back (None: not by the end of the data)

    @property
    def on_time(self) -> bool:
        return self.back_on is not None and self.back_on <= self.due_date


@dataclass
class Result:
    station_id: int
    days: int = 0                     # issue days replayed
    pieces: int = 0                   # pieces handed out on them
    unplaced: int = 0                 # of those, what the plan could place with nobody
    lines: list[Line] = field(default_factory=list)

    @property
    def measured(self) -> list[Line]:
        return [ln for ln in self.lines if ln.real_pace > 0]

    @property
    def idle(self) -> int:
        return len(self.lines) - len(self.measured)

    @property
    def mape(self) -> Decimal | None:
        """Mean absolute percentage error of pace, as a fraction (0.25 = 25 %)."""
        lines = self.measured
        if not lines:
            return None
        total = sum((abs(ln.pace - ln.real_pace) / ln.real_pace for ln in lines), Decimal("0"))
        return (total / len(lines)).quantize(Decimal("0.0001"))

    @property
    def on_time_share(self) -> Decimal | None:
        if not self.lines:
            return None
        return (Decimal(sum(ln.on_time for ln in self.lines)) / len(self.lines)).quantize(Decimal("0.0001"))

    @property
    def median_ape(self) -> Decimal | None:
        """The middle line's |forecast − real| / real: half the lines erred less."""
        errors = sorted(abs(ln.pace - ln.real_pace) / ln.real_pace for ln in self.measured)
        if not errors:
            return None
        middle = len(errors) // 2
        value = errors[middle] if len(errors) % 2 else (errors[middle - 1] + errors[middle]) / 2
        return value.quantize(Decimal("0.0001"))

    @property
    def wape(self) -> Decimal | None:
        """Σ |forecast − real| / Σ real over the measured lines: the error in pieces, which a few
        nearly idle horizons cannot blow up as they do MAPE."""
        lines = self.measured
        real = sum((ln.real_pace for ln in lines), Decimal("0"))
        if not lines or real <= 0:
            return None
        return (sum((abs(ln.pace - ln.real_pace) for ln in lines), Decimal("0")) / real).quantize(Decimal("0.0001"))

    @property
    def level_bias(self) -> Decimal | None:
        """Σ forecast / Σ real − 1: above 0, the plan thought people faster than they were."""
        lines = self.measured
        real = sum((ln.real_pace for ln in lines), Decimal("0"))
        if not lines or real <= 0:
            return None
        return (sum((ln.pace for ln in lines), Decimal("0")) / real - 1).quantize(Decimal("0.0001"))

    @property
    def bias(self) -> Decimal | None:
        """Mean (forecast − real) / real (the signed MAPE)."""
        lines = self.measured
        if not lines:
            return None
        return (sum(((ln.pace - ln.real_pace) / ln.real_pace for ln in lines), Decimal("0")) / len(lines)
                ).quantize(Decimal("0.0001"))


def _streams(station_id: int) -> dict[int, tuple[list[date], list[int], list[int]]]:
    """Each worker's returns by day: (days, cumulative pieces back × rate, cumulative accepted ×
    rate), in stored rate units, for the bisections below."""
    rows = db.session.execute(
        select(Return.worker_id, Return.work_date, func.sum((Return.accepted + Return.rejected) * _RETURN_RATE),
               func.sum(Return.accepted * _RETURN_RATE))
        .where(Return.station_id == station_id)
        .group_by(Return.worker_id, Return.work_date).order_by(Return.worker_id, Return.work_date)).all()
    out: dict[int, tuple[list[date], list[int], list[int]]] = {}
    for worker_id, day, back, accepted in rows:
        days, backs, accs = out.setdefault(worker_id, ([], [], []))
        days.append(day)
        backs.append((backs[-1] if backs else 0) + int(back or 0))
        accs.append((accs[-1] if accs else 0) + int(accepted or 0))
    return out


def _before(stream, day: date) -> tuple[int, int]:
    """Cumulative (back, accepted) of the days before ``day``."""
    days, backs, accs = stream
    i = bisect.bisect_left(days, day)
    return (backs[i - 1], accs[i - 1]) if i else (0, 0)


def _holding_on(station_id: int, day: date) -> dict[int, list[tuple[date, int, int]]]:
    """What each worker held on the morning of ``day``, by due date: batches handed out before
    it and not closed before it, less what came back before it ([(due date, pieces, pieces ×
    stored rate)], as ``planning.worker_paces`` takes it)."""
    out_before = (Batch.issued_on < day) & ((Batch.closed_on.is_(None)) | (Batch.closed_on >= day))
    issued = db.session.execute(
        select(Batch.worker_id, Batch.due_date, func.sum(Batch.quantity), func.sum(Batch.quantity * _BATCH_RATE))
        .where(Batch.station_id == station_id, out_before).group_by(Batch.worker_id, Batch.due_date)).all()
    came = {(wid, due): (int(n or 0), int(v or 0)) for wid, due, n, v in db.session.execute(
        select(Return.worker_id, Batch.due_date, func.sum(Return.accepted + Return.rejected + Return.unused),
               func.sum((Return.accepted + Return.rejected + Return.unused) * _RETURN_RATE))
        .join(Batch, Batch.id == Return.batch_id)
        .where(Batch.station_id == station_id, out_before, Return.work_date < day)
        .group_by(Return.worker_id, Batch.due_date))}
    holding: dict[int, list[tuple[date, int, int]]] = {}
    for wid, due, n, v in issued:
        back_n, back_v = came.get((wid, due), (0, 0))
        pieces, value = int(n or 0) - back_n, int(v or 0) - back_v
        if pieces > 0:
            holding.setdefault(wid, []).append((due, pieces, max(value, 0)))
    return holding


def backtest(station_id: int, product_id: int | None = None, step_id: int | None = None,
             start: date | None = None, end: date | None = None) -> Result:
    """Replay every issue day of the station (of one product or step, between ``start`` and
    ``end``) through the plan; see the module's docstring for what is measured."""
    result = Result(station_id)
    last = db.session.scalar(select(func.max(Return.work_date)).where(Return.station_id == station_id))
    if last is None:
        return result
    days = (select(Batch.product_id, Batch.step_id, Batch.issued_on, func.sum(Batch.quantity), func.max(Batch.due_date))
            .where(Batch.station_id == station_id, Batch.step_id.is_not(None))
            .group_by(Batch.product_id, Batch.step_id, Batch.issued_on)
            .order_by(Batch.issued_on, Batch.product_id, Batch.step_id))
    if product_id is not None:
        days = days.where(Batch.product_id == product_id)
    if step_id is not None:
        days = days.where(Batch.step_id == step_id)
    if start is not None:
        days = days.where(Batch.issued_on >= start)
    if end is not None:
        days = days.where(Batch.issued_on <= end)
    streams = _streams(station_id)
    rates = {sid: int(Decimal(r) * planning.RATE_SCALE) for sid, r in db.session.execute(
        select(ProductStep.id, ProductStep.piece_rate))}
    holdings: dict[date, dict[int, list[tuple[date, int, int]]]] = {}
    for product, step, day, quantity, due in db.session.execute(days).all():
        if due > last or not rates.get(step):
            continue
        holding = holdings.get(day)
        if holding is None:
            holding = holdings[day] = _holding_on(station_id, day)
        paces = planning.worker_paces(station_id, product, step, day - timedelta(days=1), holding=holding,
                                      registered_by=day)
        items, unplaced, _late = planning.split(paces, int(quantity), due, day)
        result.days += 1
        result.pieces += int(quantity)
        result.unplaced += unplaced
        span = (due - day).days + 1
        rate = rates[step]
        for item in items:
            stream = streams.get(item.worker_id, ([], [], []))
            back0, acc0 = _before(stream, day)
            back_end, acc_end = _before(stream, due + timedelta(days=1))
            real = Decimal(acc_end - acc0) / rate / span
            # What she holds that competes with the line (planning.competing_load100) comes first.
            held = Decimal(planning.competing_load100(paces[item.worker_id], due, day)) / 100
            need = back0 + held * rate + item.quantity * rate
            i = bisect.bisect_left(stream[1], need)
            back_on = stream[0][i] if i < len(stream[0]) else None
            if back_on is not None and back_on < day:
                back_on = day
            result.lines.append(Line(day, step, item.worker_id, item.quantity, due, item.pace_per_day,
                                     real.quantize(Decimal("0.01")), back_on))
    return result


def summary(label: str, result: Result) -> str:
    """One line of figures (the command's and the bench's output)."""
    def pct(value, sign=""):
        return f"{value * 100:{sign}.1f} %" if value is not None else "-"

    return (f"{label}: {result.days} issue days, {result.pieces:,} pieces, {len(result.lines):,} planned batches "
            f"({result.idle} whose worker made nothing), unplaced {result.unplaced:,}; MAPE of pace "
            f"{pct(result.mape)} (median {pct(result.median_ape)}, WAPE {pct(result.wape)}, level bias "
            f"{pct(result.level_bias, '+')}); "
            f"on time {pct(result.on_time_share)}")
