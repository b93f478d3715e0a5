"""Issuing a batch: pinyin search, the typed quantity kept across a search, a warning when the
worker already holds overdue work, "issue and print" opening the ticket's print dialog, and the
ticket's return-by and signature lines (finding 5)."""
from datetime import timedelta

from app.models import local_today
from app.workers.queries import name_pinyin, pinyin_matches


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
