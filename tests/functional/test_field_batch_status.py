"""A batch with everything back reads "all back, to close" (not "out"), counts as open nowhere
a worker's holdings are shown; closing with pieces missing asks for a reason and a tick and
shows the deduction (finding 4)."""
from app.extensions import db
from app.models import Batch
from tests.helpers import form_values


def test_an_all_back_batch_is_shown_apart_and_not_counted_as_held(client, login_as, make):
    station = make.station()
    login_as("supervisor", station=station)
    worker = make.worker(station=station, name="高秀英")
    batch = make.batch(order=make.order(station=station), worker=worker, quantity=20)
    make.return_(batch=batch, accepted=18, rejected=2)
    detail = client.get(f"/batches/{batch.id}").text
    assert "已全部交回，待结单" in detail
    page = client.get(f"/workers/{worker.id}").text
    assert "已全部交回，待结单" in page
    listing = client.get("/workers").text
    assert "高秀英" in listing


def test_closing_with_pieces_missing_needs_a_reason_and_a_tick_and_names_the_deduction(client, login_as, make):
    station = make.station(shortfall_policy="material_cost")
    login_as("supervisor", station=station)
    batch = make.batch(order=make.order(station=station, product=make.product(material_cost="0.0500")), quantity=20)
    make.return_(batch=batch, accepted=10)
    page = client.get(f"/batches/{batch.id}/close").text
    assert "还有 10 件没有交回" in page and "¥0.50" in page and 'name="reason_choice"' in page
    values = form_values(page)
    refused = client.post(f"/batches/{batch.id}/close", data={**values, "confirm": "y"})
    assert refused.status_code == 422 and "请选择缺件原因" in refused.text
    assert db.session.get(Batch, batch.id).status == "open"
    done = client.post(f"/batches/{batch.id}/close", data={**values, "reason_choice": "lost", "reason": "袋子破了",
                                                            "confirm": "y"})
    assert done.status_code == 303
    db.session.expire_all()
    closed = db.session.get(Batch, batch.id)
    assert closed.status == "closed" and closed.close_reason == "材料丢失: 袋子破了"


def test_closing_an_all_back_batch_asks_nothing_more(client, login_as, make):
    station = make.station()
    login_as("supervisor", station=station)
    batch = make.batch(order=make.order(station=station), quantity=5)
    make.return_(batch=batch, accepted=5)
    page = client.get(f"/batches/{batch.id}/close").text
    assert "已全部交回：不扣款" in page and 'name="confirm"' not in page
    assert client.post(f"/batches/{batch.id}/close", data=form_values(page)).status_code == 303
