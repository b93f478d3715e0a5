"""Rule 7 for the worker: every worker-facing page and API route, walked with another
worker's ids (payslips included), answers 404 — and the pages without ids show nothing of them."""
import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Payslip, Return
from tests.wages_fixtures import close, issue_on, period_for, previous_month, return_on

PARAMS = ("worker_id", "batch_id", "order_id", "payslip_id", "return_id", "station_id", "product_id")


def _ids(worker, batch, ret, order, station, product):
    slip = db.session.scalar(select(Payslip.id).where(Payslip.worker_id == worker.id))
    return {"worker_id": worker.id, "batch_id": batch.id, "order_id": order.id, "payslip_id": slip,
            "return_id": ret.id, "station_id": station.id, "product_id": product.id}


def test_every_worker_route_answers_404_for_another_workers_ids(app, client, login_as, api, make):
    from app.models import StoredFile

    start, end = previous_month()
    station = make.station()
    picture = StoredFile(filename="p.png", content_type="image/png", size=4, sha256="x", data=b"\x89PNG")
    db.session.add(picture)
    db.session.commit()
    mine_product = make.product(piece_rate="0.5000", picture=picture)
    their_product = make.product(piece_rate="0.7000", picture=picture)
    me = make.worker(station=station, name="本人甲")
    other = make.worker(station=station, name="别人乙")
    objects = {}
    for worker, product in ((me, mine_product), (other, their_product)):
        order = make.order(station=station, product=product)
        batch = issue_on(make, order, worker, 50, start)
        ret = return_on(batch, start + timedelta(days=1), accepted=7)
        objects[worker.id] = (batch, ret, order, product)
    close(period_for(start, end))
    mine = _ids(me, objects[me.id][0], objects[me.id][1], objects[me.id][2], station, mine_product)
    theirs = _ids(other, objects[other.id][0], objects[other.id][1], objects[other.id][2], station, their_product)
    theirs["station_id"] = mine["station_id"]  # same station: only the worker differs

    login_as("worker", account=me)
    api_client = api(me)
    walked = 0
    for rule in app.url_map.iter_rules():
        params = set(rule.arguments)
        if "GET" not in rule.methods or rule.rule.startswith("/static") or not params or not params <= set(PARAMS):
            continue
        def url(values, rule=rule):
            return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)

        def get(path):
            return api_client.get(path[len("/api/v1"):]) if path.startswith("/api/v1") else client.get(path)

        own, their = get(url(mine)), get(url(theirs))
        if own.status_code == 200:
            walked += 1
            assert their.status_code == 404, rule.rule
        else:
            assert their.status_code in (302, 403, 404), rule.rule
    assert walked >= 2  # at least the statement PDF (page and API) and the product picture

    for path in ("/home", "/me/earnings", f"/me/earnings?month={start:%Y-%m}", "/me/batches", "/me/payslips"):
        html = client.get(path).get_data(as_text=True)
        assert "别人乙" not in html and their_product.name not in html, path
    for path in ("/me", "/me/earnings", f"/me/earnings?from={start}&to={end}", "/me/batches", "/me/payslips"):
        body = api_client.get(path).get_data(as_text=True)
        assert "别人乙" not in body and f'"worker_id": {other.id}' not in body, path
    assert db.session.scalar(select(Return.id).where(Return.worker_id == other.id)) is not None
