"""The plan's backtest (app/services/backtest.py): on a hand-built history it computes the
paces, the split, when each line would have come back, MAPE and the on-time share by hand;
on a small generated history (bench/history.py) the forecast stays level and most planned
batches come back in time. The full year is ``python -m bench.backtest`` (bench/README.md)."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from app.extensions import db
from app.models import utc_start_of
from app.services import planning
from app.services.backtest import backtest

pytestmark = pytest.mark.calendar  # history relative to the day: runs again on the hard days


def test_the_backtest_replays_a_hand_built_history_to_known_figures(app, make, clock):
    """Two workers, one product at 1.00 a piece. Thirty days ago A took 200 and brought them
    back by day −15, B took 100 and brought them back on day −20. Ten days ago A took 60 and
    B 40, due on day −6; A brought 30 back on day −8 and 30 on day −5, B 20 (and 2 rejected)
    on day −9 and 18 on day −7."""
    t = clock.today
    station = make.station()
    product = make.product(piece_rate="1.0000", unit_price="2.0000")
    order = make.order(station=station, product=product, quantity=1000)
    a, b = make.worker(station=station, name="甲"), make.worker(station=station, name="乙")
    for worker in (a, b):
        worker.registered_on = utc_start_of(t - timedelta(days=60))
    db.session.commit()

    def batch(worker, quantity, issued, due):
        return make.batch(order=order, worker=worker, quantity=quantity, issued_on=t - timedelta(days=issued),
                          due_date=t - timedelta(days=due))

    def back(bt, day, accepted, rejected=0):
        make.return_(batch=bt, accepted=accepted, rejected=rejected, work_date=t - timedelta(days=day))

    a1, b1 = batch(a, 200, 30, 16), batch(b, 100, 30, 16)
    back(a1, 25, 100), back(a1, 15, 100), back(b1, 20, 100)
    a2, b2 = batch(a, 60, 10, 6), batch(b, 40, 10, 6)
    back(b2, 9, 20, 2), back(a2, 8, 30), back(b2, 7, 18), back(a2, 5, 30)

    result = backtest(station.id, start=t - timedelta(days=10))
    # As of day −11: 20 days since their first batch; A brought back 200 (10 a day), B 100
    # (5 a day); the median 7.5 weighs 3 days: A (20·10 + 3·7.5)/23 = 9.67, B 5.33.
    # Capacity over the 5 days to day −6 at 70 %: A ⌊9.67·0.7·5⌋ = 33, B ⌊5.33·0.7·5⌋ = 18.
    assert (result.days, result.pieces, result.unplaced) == (1, 100, 49)
    lines = {ln.worker_id: ln for ln in result.lines}
    assert (lines[a.id].quantity, lines[a.id].pace, lines[b.id].quantity, lines[b.id].pace) == (
        33, Decimal("9.67"), 18, Decimal("5.33"))
    # Real: A accepted 30 in the 5 days (6.00 a day), B 38 (7.60). A's 33 are back with the
    # return of day −5 (after its due date), B's 18 with the one of day −9 (rejects count).
    assert (lines[a.id].real_pace, lines[a.id].back_on, lines[a.id].on_time) == (
        Decimal("6.00"), t - timedelta(days=5), False)
    assert (lines[b.id].real_pace, lines[b.id].back_on, lines[b.id].on_time) == (
        Decimal("7.60"), t - timedelta(days=9), True)
    # MAPE = (3.67/6.00 + 2.27/7.60) / 2; on time 1 of 2.
    assert result.mape == Decimal("0.4552") and result.on_time_share == Decimal("0.5000")
    assert result.wape == Decimal("0.4368")  # (3.67 + 2.27) / (6.00 + 7.60)
    assert result.median_ape == Decimal("0.4552")  # of two lines: their mean
    # The whole history: the first day had no one with a pace yet, so all of it is unplaced.
    whole = backtest(station.id)
    assert (whole.days, whole.pieces, whole.unplaced, len(whole.lines)) == (2, 400, 349, 2)
    # Nothing is replayed whose due date is after the last return (its outcome is unknown).
    batch(a, 10, 2, -5)
    assert backtest(station.id, start=t - timedelta(days=3)).days == 0


def test_the_replay_counts_held_work_due_later_only_for_its_share_of_the_days(app, make, clock):
    """One worker at 1.00 a piece: 200 taken on day −30 and back by day −15 (10 a day); on
    day −12 she took 100 due on day +30, nothing of it back; on day −10, 60 due on day −6,
    40 back on day −8 and 20 on day −5. Replayed on day −10 the 100 due later compete for 5
    of their 41 days only, as in the plan (planning.competing_load100)."""
    t = clock.today
    station = make.station()
    product = make.product(piece_rate="1.0000", unit_price="2.0000")
    order = make.order(station=station, product=product, quantity=1000, due_in_days=40)
    a = make.worker(station=station, name="甲")
    a.registered_on = utc_start_of(t - timedelta(days=60))
    db.session.commit()

    def batch(quantity, issued, due):
        return make.batch(order=order, worker=a, quantity=quantity, issued_on=t - timedelta(days=issued),
                          due_date=t - timedelta(days=due))

    a1 = batch(200, 30, 16)
    make.return_(batch=a1, accepted=100, work_date=t - timedelta(days=25))
    make.return_(batch=a1, accepted=100, work_date=t - timedelta(days=15))
    batch(100, 12, -30)
    a2 = batch(60, 10, 6)
    make.return_(batch=a2, accepted=40, work_date=t - timedelta(days=8))
    make.return_(batch=a2, accepted=20, work_date=t - timedelta(days=5))

    result = backtest(station.id, start=t - timedelta(days=10))
    # As of day −11: 20 days of history, 200 back, pace (20·10 + 3·10)/23 = 10. Due on day −6:
    # 5 days; the 100 due on day +30 (41 days away) compete for 100 × 5 / 41 = 12.19:
    # ⌊10 · 0.7 · 5 − 12.19⌋ = 22 (all 100 counted, she would get nothing).
    [line] = result.lines
    assert (result.days, result.pieces, result.unplaced) == (1, 60, 38)
    assert (line.quantity, line.pace, line.real_pace) == (22, Decimal("10.00"), Decimal("8.00"))
    # Back: 200 before the day, then 12.19 of the held and the line's 22: the return of day −8
    # brings her to 240 ≥ 234.19, before the due date.
    assert (line.back_on, line.on_time) == (t - timedelta(days=8), True)


def test_on_a_small_generated_history_the_forecast_is_level_and_most_batches_are_back_in_time(app, clock):
    from bench.history import generate

    made = generate(random.Random(7), 16, 100, clock.today)
    result = backtest(made["station_id"])
    assert result.days > 60 and len(result.lines) > 100
    # The pace in pieces is within 15 % of what really came (the year's bench: +2.9 %), and
    # the plan's 70 % cushion brings most lines back by their due date (the year: 86.6 %). This
    # small history's share moves with the weekday it ends on (rest days are weekdays): 74.9 %
    # to 85.2 % over seven consecutive days and the hard days, so the floor is 70 %.
    assert abs(result.level_bias) < Decimal("0.15"), result.level_bias
    assert result.on_time_share >= Decimal("0.70"), result.on_time_share
    # Without the cushion the same history is late far more often: the cushion is what does it.
    planning.PLAN_SHARE, share = Decimal("1"), planning.PLAN_SHARE
    try:
        bare = backtest(made["station_id"])
    finally:
        planning.PLAN_SHARE = share
    assert bare.on_time_share < result.on_time_share - Decimal("0.10")
