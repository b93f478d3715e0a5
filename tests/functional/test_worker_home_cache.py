"""The worker's home page is kept rendered per process (app/page_cache.py), keyed by
``workers.activity_seq``, which database triggers move. Whatever changes on the phone shows on
the very next visit; a repeat visit with nothing new costs one query."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Payslip, Worker, local_today
from app.services import catalog, production
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

pytestmark = pytest.mark.calendar  # runs again on the hard days (scripts/test.sh)


def _home(client) -> str:
    page = client.get("/home")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    return page.get_data(as_text=True)


def _today_amount(html: str) -> str:
    return re.search(r'data-testid="today-amount">([^<]+)<', html).group(1)


def _seq(worker) -> int:
    db.session.expire_all()
    return db.session.get(Worker, worker.id).activity_seq


def test_a_repeat_visit_is_the_same_page_from_one_query(app, client, login_as, make, count_queries):
    worker = login_as("worker")
    make.return_(batch=make.batch(order=make.order(station=worker.station), worker=worker, quantity=20), accepted=5)
    first = _home(client)
    with count_queries() as queries:
        second = _home(client)
    assert len(queries.selects) == 1, queries.selects  # the signed-in account, whose activity_seq keys the page
    token = re.compile(r'name="csrf_token" value="[^"]+"')
    assert token.sub("", first) == token.sub("", second)
    assert "csrf-slot" not in second


def test_every_change_shows_on_the_next_visit(client, login_as, make):
    """Return, correction, new batch, closed batch, renamed product, worker renamed: each is on
    the page at once, though the page before it was served from the cache."""
    worker = login_as("worker")
    product = make.product(piece_rate="0.5000", name="黑枸杞礼盒")
    order = make.order(station=worker.station, product=product, quantity=500)
    batch = make.batch(order=order, worker=worker, quantity=100, due_date=local_today() + timedelta(days=3))
    _home(client), _home(client)  # the second one from the cache

    seq = _seq(worker)
    first = make.return_(batch=batch, accepted=10)
    assert _seq(worker) > seq
    assert _today_amount(_home(client)) == "¥5.00"

    production.record_correction(original=first, accepted=-2, reason="点错了")
    db.session.commit()
    assert _today_amount(_home(client)) == "¥4.00"

    second = make.batch(order=order, worker=worker, quantity=30)
    html = _home(client)
    assert second.code in html and batch.code in html

    production.close_batch(batch=batch, reason="做完了")
    db.session.commit()
    html = _home(client)
    assert batch.code not in html and second.code in html

    catalog.update_product(product, name="假发打结")
    db.session.commit()
    html = _home(client)
    assert "假发打结" in html and "黑枸杞礼盒" not in html

    worker = db.session.get(Worker, worker.id)
    worker.name = "周桂芳"
    db.session.commit()
    assert "周桂芳" in _home(client)


def test_a_closed_month_shows_its_statement_at_once(client, login_as, make):
    worker = login_as("worker")
    start, end = previous_month()
    order = make.order(station=worker.station, product=make.product(piece_rate="0.3500"))
    return_on(issue_on(make, order, worker, 50, start), start, accepted=20)
    period = period_for(start, end)
    assert "还没有结算单" in _home(client)
    close(period)
    slip = db.session.scalar(select(Payslip).where(Payslip.worker_id == worker.id))
    assert f"/me/payslips/{slip.id}" in _home(client)  # the phone page; its PDF one tap further


def test_the_language_and_a_one_time_message_are_never_taken_from_the_cache(client, login_as, make):
    login_as("worker")
    assert "今天" in _home(client)
    english = client.get("/home?lang=en").get_data(as_text=True)
    assert "Today" in english
    assert "Today" in _home(client)  # the language cookie, now without ?lang=
    with client.session_transaction() as sess:
        sess["_flashes"] = [("info", "Saved: 10 pieces")]
    assert "Saved: 10 pieces" in _home(client)
    assert "Saved: 10 pieces" not in _home(client)


def test_sign_out_works_from_a_page_served_from_the_cache(client, login_as, make):
    login_as("worker")
    _home(client)
    cached = _home(client)
    token = re.search(r'name="csrf_token" value="([^"]+)"', cached).group(1)
    done = client.post("/logout", data={"csrf_token": token})
    assert done.status_code in (302, 303)
    assert client.get("/home").status_code in (302, 303)  # signed out


def test_a_held_products_change_moves_only_its_holders(make):
    """The trigger on products touches the workers holding an open batch of it, no one else."""
    product = make.product()
    order = make.order(product=product, quantity=500)
    holder, other = make.worker(station=order.station), make.worker(station=order.station)
    make.batch(order=order, worker=holder, quantity=10)
    make.batch(order=make.order(station=order.station), worker=other, quantity=10)
    before = (_seq(holder), _seq(other))
    catalog.update_product(db.session.get(type(product), product.id), unit="盒")
    db.session.commit()
    assert _seq(holder) > before[0] and _seq(other) == before[1]


def test_a_batch_all_brought_back_is_no_longer_held(client, login_as, make):
    """Everything returned, the supervisor not yet closing it: nothing left to bring back, so
    it leaves "what I hold" on the home page and on /me/batches at once."""
    worker = login_as("worker")
    order = make.order(station=worker.station, quantity=500)
    done, still = (make.batch(order=order, worker=worker, quantity=q) for q in (20, 30))
    assert done.code in _home(client)
    make.return_(batch=done, accepted=18, rejected=2)
    home, listed = _home(client), client.get("/me/batches").get_data(as_text=True)
    assert done.code not in home and done.code not in listed
    assert still.code in home and still.code in listed


def test_a_renamed_step_shows_on_the_next_visit_for_who_holds_it_and_who_was_paid_for_it(client, login_as, make):
    """A step's name is beside each batch and pay line of it: renaming the step moves the
    activity_seq of every worker who had a batch of it (a trigger on product_steps), and
    nobody else's."""
    worker = login_as("worker")
    owner = make.client()
    product = catalog.create_product(client_id=owner.id, name="假发", piece_rate=None, unit_price=Decimal("60"),
                                     steps=[{"name": "打结", "piece_rate": Decimal("38")},
                                            {"name": "整理", "piece_rate": Decimal("6")}])
    db.session.commit()
    knot = product.steps[0]
    order = make.order(station=worker.station, product=product, quantity=10)
    held = make.batch(order=order, worker=worker, quantity=4, due_date=local_today() + timedelta(days=3))
    make.return_(batch=held, accepted=2)
    done_worker = make.worker(station=worker.station)
    make.return_(batch=make.batch(order=order, worker=done_worker, quantity=2), accepted=2)  # closed, paid
    bystander = make.worker(station=worker.station)
    assert "假发 · 打结" in _home(client) and "假发 · 打结" in _home(client)  # the second from the cache
    seqs = {w.id: _seq(w) for w in (worker, done_worker, bystander)}

    catalog.update_step(knot, name="手工打结")
    db.session.commit()
    home = _home(client)
    assert "假发 · 手工打结" in home and "假发 · 打结" not in home
    assert _seq(worker) > seqs[worker.id] and _seq(done_worker) > seqs[done_worker.id]
    assert _seq(bystander) == seqs[bystander.id]
