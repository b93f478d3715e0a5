"""Issuing a batch: pinyin search, the typed quantity kept across a search, a warning when the
worker already holds overdue work, "issue and print" opening the ticket's print dialog, and the
ticket's return-by and signature lines; the default quantity from the chosen worker's pace
to the due date (finding 5)."""
from datetime import timedelta
from decimal import Decimal

import pytest

from app.models import local_today
from app.workers.queries import name_pinyin, pinyin_matches

pytestmark = pytest.mark.calendar  # paces over the last 14 days, due dates a week from today


def test_pinyin_and_initials_find_a_worker(app, make):
    station = make.station()
    gao = make.worker(station=station, name="高秀英")
    make.worker(station=station, name="李桂兰")
    assert name_pinyin("高秀英") == ("gaoxiuying", "gxy")
    with app.test_request_context("/"):
        from flask_login import login_user

        login_user(make.staff("admin"))
        assert pinyin_matches(station.id, "gao") == [gao.id]
        assert pinyin_matches(station.id, "gxy") == [gao.id]
        assert pinyin_matches(station.id, "xiuying") == [gao.id]
        assert pinyin_matches(station.id, "高") == []  # Chinese goes through the plain name search


def test_issue_page_search_keeps_the_typed_quantity_and_warns_of_overdue_work(client, login_as, make):
    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station, quantity=500)
    gao = make.worker(station=station, name="高秀英")
    today = local_today()
    make.batch(order=order, worker=gao, quantity=10, issued_on=today - timedelta(days=9), due_date=today - timedelta(days=2))
    page = client.get(f"/orders/{order.id}/issue?q=gao&quantity=37&due_date={(today + timedelta(days=3)).isoformat()}").text
    assert "高秀英" in page and 'value="37"' in page
    assert "手上已有 1 张逾期发料单" in page
    assert 'data-copy-from="quantity"' in page and 'name="print" value="1"' in page


def test_issue_and_print_lands_on_a_page_that_opens_the_print_dialog(client, login_as, make):
    from tests.helpers import form_values

    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station, quantity=500)
    worker = make.worker(station=station)
    page = client.get(f"/orders/{order.id}/issue").text
    values = form_values(page.split('class="issue-form"')[1])
    values.update(worker_id=worker.id, quantity="20", due_date=(local_today() + timedelta(days=5)).isoformat(), print="1")
    resp = client.post(f"/orders/{order.id}/issue", data=values)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/ticket/print")
    ticket = client.get(resp.headers["Location"]).text
    assert "print-ticket.js" in ticket and "请于" in ticket and "领料人签字" in ticket
    assert "issued=1" in ticket  # then the batch's page


def test_the_ticket_says_when_to_bring_it_back_and_has_a_signature_line(app, make):
    from flask import render_template

    from app.batches import tickets

    batch = make.batch(quantity=10)
    with app.test_request_context("/"):
        html = render_template("pdf/batch_ticket.html", t=tickets.ticket_context(batch))
    assert f"请于 {batch.due_date.isoformat()} 前交回" in html and "领料人签字" in html


def _paced_station(make, clock, batch_size=500, quantity=5000):
    """A station where 王快 accepted 10 pieces a day for the 14 days since her batch (pace 10
    a calendar day), 李新 has no history yet (the station's median, 10), and an order with
    plenty left, due in 30 days."""
    from app.services import production

    station = make.station()
    product = make.product(batch_size=batch_size)
    fast, new = make.worker(station=station, name="王快"), make.worker(station=station, name="李新")
    past = make.order(station=station, product=product, quantity=1000)
    batch = make.batch(order=past, worker=fast, quantity=140, issued_on=clock.days_ago(13), due_date=clock.today)
    for day in range(0, 14):
        production.record_return(batch=batch, accepted=10, rejected=0, work_date=clock.days_ago(day))
    order = make.order(station=station, product=product, quantity=quantity)
    return station, order, fast, new


def _quantity(page: str) -> str:
    import re

    found = re.search(r'<input[^>]*name="quantity"[^>]*>', page)
    value = re.search(r'value="(\d*)"', found.group(0)) if found else None
    return value.group(1) if value else ""


def test_the_default_quantity_is_what_the_chosen_worker_can_finish_by_the_due_date(client, login_as, make, clock):
    station, order, fast, new = _paced_station(make, clock)
    login_as("supervisor", station=station)
    # The form's due date is a week away: 8 days, both included, at the 70 % of 10 a day a plan
    # counts on = 56 — not the usual 500, and never the 5,000 left.
    page = client.get(f"/orders/{order.id}/issue?worker_id={fast.id}").text
    assert _quantity(page) == "56"
    assert "按王快的速度（每天 10.0 件），交货日期前能做完 56 件" in page
    assert f'value="{fast.id}" checked' in page and 'data-pace100="1000"' in page and 'data-held=""' in page
    assert 'data-share100="70"' in page  # the page's script counts on the same share
    # No worker chosen yet: the station's middle worker's figure, so a tap on anyone is sane too.
    assert _quantity(client.get(f"/orders/{order.id}/issue").text) == "56"
    # What she holds counts against the days: holding 50, 6 more; holding 56 or more, no default.
    make.batch(order=order, worker=fast, quantity=50)
    assert _quantity(client.get(f"/orders/{order.id}/issue?worker_id={fast.id}").text) == "6"
    make.batch(order=order, worker=fast, quantity=6)
    full = client.get(f"/orders/{order.id}/issue?worker_id={fast.id}").text
    assert _quantity(full) == "" and "手上的活按这个速度已够做到交货日期" in full
    # A quantity typed before a search stays what was typed.
    assert _quantity(client.get(f"/orders/{order.id}/issue?worker_id={fast.id}&quantity=37").text) == "37"


def test_the_default_never_exceeds_what_is_left_nor_the_workers_share_of_the_plan(app, make, clock):
    from app.services import planning, production

    station, order, fast, new = _paced_station(make, clock, quantity=100)
    make.batch(order=order, worker=new, quantity=70)  # 30 left to hand out
    step = production.order_steps(order)[0]
    paces = planning.worker_paces(station.id, order.product_id, step["step_id"])
    plan = planning.suggest_plan(order, step_id=step["step_id"], paces=paces)
    defaults = planning.batch_defaults(paces, plan, step["available"], clock.today + timedelta(days=7))
    assert step["available"] == 30 and defaults[fast.id].quantity == 30
    assert sum(ln.quantity for ln in plan.items) + plan.unplaced == 30
    # A plan line smaller than her capacity bounds her default; no pace anywhere, no figure.
    plan.items = [planning.PlanLine(fast.id, "王快", 12, Decimal("10"), 0, clock.today)]
    assert planning.batch_defaults(paces, plan, 30, clock.today + timedelta(days=7))[fast.id].quantity == 12
    idle = {w: planning.Pace(w, "x", Decimal("0"), 0, 0, 0, Decimal("0")) for w in (fast.id, new.id)}
    assert planning.batch_defaults(idle, None, 30, clock.today)[fast.id].quantity is None


def test_held_work_due_later_competes_only_for_its_share_of_the_days(client, login_as, make, clock, api):
    """王快 (10 a day) holds 30 due in 4 days and 100 due in 40 days; a new batch due in 10
    days (today to it, both counted). The 30 compete in full, the 100 for 10 of its 40 days
    (25): 30 + 25 = 55 against 70 % of 10 × 10 = 70, so 15 — the plan, the API, the form's
    default and the page's data agree. Counting all 130 she holds she could take nothing."""
    from app.services import planning, production

    station, order, fast, new = _paced_station(make, clock)
    later = make.order(station=station, product=order.product, quantity=500, due_in_days=60)
    make.batch(order=order, worker=fast, quantity=30, due_date=clock.today + timedelta(days=3))
    make.batch(order=later, worker=fast, quantity=100, due_date=clock.today + timedelta(days=39))
    due = clock.today + timedelta(days=9)
    step = production.order_steps(order)[0]
    paces = planning.worker_paces(station.id, order.product_id, step["step_id"])
    pace = paces[fast.id]
    assert pace.pace_per_day == Decimal("10.00") and pace.holding == 130 and pace.holding_load == Decimal("130")
    assert pace.held == ((clock.today + timedelta(days=3), 3000), (clock.today + timedelta(days=39), 10000))
    assert planning.competing_load100(pace, due, clock.today) == 5500
    assert planning.can_finish(pace, due, clock.today) == 15
    # Due on the later batch's day or after it, everything she holds competes: 70 % × 10 × 40 − 130.
    assert planning.can_finish(pace, clock.today + timedelta(days=39), clock.today) == 150
    # Overdue work competes in full whatever the new due date.
    clock.move_to(clock.today + timedelta(days=5))
    assert planning.competing_load100(pace, clock.today, clock.today) == 3000 + 10000 * 1 // 35
    clock.move_to(clock.today - timedelta(days=5))
    plan = planning.suggest_plan(order, step_id=step["step_id"], due_date=due, paces=paces)
    line = {ln.worker_id: ln for ln in plan.items}[fast.id]
    assert line.quantity == 15 and line.expected_done == clock.today + timedelta(days=6)  # ⌈(55 + 15) / 10⌉ days
    body = api(role="admin").get(f"/orders/{order.id}/plan?due_date={due.isoformat()}").get_json()
    assert {i["worker_id"]: i["quantity"] for i in body["items"]}[fast.id] == 15
    assert planning.batch_defaults(paces, plan, step["available"], due, clock.today)[fast.id].quantity == 15
    login_as("supervisor", station=station)
    page = client.get(f"/orders/{order.id}/issue?worker_id={fast.id}&due_date={due.isoformat()}").text
    assert _quantity(page) == "15"
    held = f'data-held="{(clock.today + timedelta(days=3)).isoformat()}:3000 {(clock.today + timedelta(days=39)).isoformat()}:10000"'
    assert held in page


def test_a_paces_history_begins_at_the_first_batch_looked_for_90_days_before_the_window(app, make, clock):
    """28 days of history for a worker whose first batch is within the 90 days before the
    window, the days since it for one who began inside the window, none (the median, weight 0)
    for one whose only batch is older than that; what each holds is summed by due date over her
    open batches of this station only."""
    from app.services import planning, production

    station, other = make.station(), make.station()
    product = make.product()
    order = make.order(station=station, product=product, quantity=5000)
    settled, recent, lapsed = (make.worker(station=station, name=n) for n in ("老张", "小李", "老王"))
    due = clock.today + timedelta(days=5)
    for worker, days_ago in ((settled, 100), (recent, 9), (lapsed, 200)):
        batch = make.batch(order=order, worker=worker, quantity=20, issued_on=clock.days_ago(days_ago), due_date=due)
        production.record_return(batch=batch, accepted=10, work_date=clock.days_ago(min(days_ago, 3)))
    make.batch(order=order, worker=recent, quantity=30, issued_on=clock.days_ago(2), due_date=due)
    make.batch(order=make.order(station=other, product=product), quantity=40, issued_on=clock.days_ago(5), due_date=due)
    step = production.order_steps(order)[0]
    paces = planning.worker_paces(station.id, product.id, step["step_id"])
    assert {w.id: paces[w.id].days for w in (settled, recent, lapsed)} == {settled.id: 28, recent.id: 10, lapsed.id: 0}
    assert paces[recent.id].held == ((due, 4000),) and paces[recent.id].holding == 40
    assert paces[settled.id].holding == 10 and sum(p.holding for p in paces.values()) == 60


def test_the_paces_statements_are_built_once_and_a_replayed_day_gets_its_own(app, make, clock):
    from app.services import planning, production

    station, order, fast, _new = _paced_station(make, clock)
    step_id = production.order_steps(order)[0]["step_id"]
    planning._workers_stmt.cache_clear()
    now = [planning.worker_paces(station.id, order.product_id, step_id) for _ in range(3)]
    before = planning.worker_paces(station.id, order.product_id, step_id, registered_by=clock.days_ago(400))
    info = planning._workers_stmt.cache_info()
    assert (info.hits, info.misses) == (2, 2)
    assert now[0] == now[2] and now[0][fast.id].pace_per_day == Decimal("10.00") and before == {}


def test_the_pickers_figures_come_from_statements_built_once_and_count_only_open_work(app, make, clock):
    """What each worker of the picker's page holds and made lately: the same two statements on
    every visit; a batch all brought back holds nothing, one past its due date is overdue."""
    from flask_login import login_user

    from app.services import production
    from app.workers import queries

    station = make.station()
    order = make.order(station=station)
    busy, idle = make.worker(station=station, name="忙"), make.worker(station=station, name="闲")
    late = make.batch(order=order, worker=busy, quantity=30, issued_on=clock.days_ago(9), due_date=clock.days_ago(1))
    production.record_return(batch=late, accepted=10, work_date=clock.days_ago(2))
    done = make.batch(order=order, worker=idle, quantity=5, issued_on=clock.days_ago(3))
    production.record_return(batch=done, accepted=5, work_date=clock.days_ago(1))
    queries._figures_stmts.cache_clear()
    with app.test_request_context("/"):
        login_user(make.staff("supervisor", station=station))
        for _ in range(2):
            page = queries.worker_rows(station.id, per_page=12, recent_first=True)
    rows = {r.worker.id: (r.holding, r.open_batches, r.overdue, r.recent_per_day) for r in page.items}
    assert rows == {busy.id: (20, 1, 1, round(10 / production.FORECAST_DAYS, 1)),
                    idle.id: (0, 0, 0, round(5 / production.FORECAST_DAYS, 1))}
    assert [r.worker.id for r in page.items] == [idle.id, busy.id]  # who took a batch most recently first
    info = queries._figures_stmts.cache_info()
    assert (info.hits, info.misses) == (1, 1)


def test_the_picker_and_the_worker_list_come_from_statements_built_once_for_each_viewer(app, make):
    """Without a search, the list's page and count are the same statements on every visit (one
    per role); the viewer's scope is a bound value: a supervisor lists her own station's
    workers, never another's, and the admin every station's."""
    from flask_login import login_user

    from app.workers import queries

    here, there = make.station(), make.station()
    ours = [make.worker(station=here) for _ in range(3)]
    theirs = make.worker(station=there)
    queries._list_stmts.cache_clear()

    def listed(user, station_id, **kw):
        with app.test_request_context("/"):
            login_user(user)
            page = queries.worker_rows(station_id, **kw)
        return page.total, {r.worker.id for r in page.items}

    supervisor, other, admin = (make.staff("supervisor", station=here), make.staff("supervisor", station=there),
                                make.staff("admin"))
    assert listed(supervisor, here.id, per_page=12, recent_first=True) == (3, {w.id for w in ours})
    assert listed(supervisor, here.id, per_page=2, page=2, recent_first=True)[0] == 3
    assert listed(other, here.id, per_page=12, recent_first=True) == (0, set())
    assert listed(other, there.id, per_page=12, recent_first=True) == (1, {theirs.id})
    assert listed(admin, None) == (4, {theirs.id, *(w.id for w in ours)})
    info = queries._list_stmts.cache_info()
    assert (info.hits, info.misses) == (3, 2)
