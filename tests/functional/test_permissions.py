"""Rule 7, walked over every object-scoped route: another station's or another worker's id
answers 404 (or 403 where the role may not use the route at all), never the record."""
import re

import pytest

from app.models import Batch, Order, Payslip, Return, Station, Worker

PARAM_MODELS = {"worker_id": Worker, "batch_id": Batch, "order_id": Order, "payslip_id": Payslip,
                "return_id": Return, "station_id": Station}


@pytest.fixture
def two_stations(make):
    a, b = make.station(), make.station()
    objects = {}
    for station in (a, b):
        order = make.order(station=station)
        worker = make.worker(station=station)
        batch = make.batch(order=order, worker=worker, quantity=50)
        ret = make.return_(batch=batch, accepted=5)
        objects[station.id] = {"worker_id": worker.id, "batch_id": batch.id, "order_id": order.id,
                               "return_id": ret.id, "station_id": station.id, "payslip_id": 999999}
    return a, b, objects


def _scoped_get_rules(app):
    for rule in app.url_map.iter_rules():
        params = set(rule.arguments)
        if "GET" in rule.methods and params and params <= set(PARAM_MODELS) and not rule.rule.startswith("/static"):
            yield rule


def _url(rule, values):
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _get(client, api_client, url):
    if url.startswith("/api/v1"):
        return api_client.get(url[len("/api/v1"):])
    return client.get(url)


def test_supervisor_gets_404_for_every_record_of_another_station(app, client, login_as, api, two_stations):
    a, b, objects = two_stations
    from app.extensions import db

    supervisor = login_as("supervisor", station=db.session.get(Station, a.id))
    api_client = api(supervisor)
    checked = 0
    for rule in _scoped_get_rules(app):
        own = _get(client, api_client, _url(rule, objects[a.id]))
        theirs = _get(client, api_client, _url(rule, objects[b.id]))
        if own.status_code == 200:
            assert theirs.status_code == 404, rule.rule
            checked += 1
        else:
            assert theirs.status_code in (403, 404), rule.rule
    assert checked >= 1


def test_worker_gets_404_or_403_for_another_workers_records(app, client, login_as, api, make, two_stations):
    a, b, objects = two_stations
    from app.extensions import db

    me = db.session.get(Worker, objects[a.id]["worker_id"])
    login_as("worker", account=me)
    api_client = api(me)
    other = dict(objects[a.id])
    other_worker = make.worker(station=db.session.get(Station, a.id))
    other_batch = make.batch(order=db.session.get(Order, objects[a.id]["order_id"]), worker=other_worker, quantity=10)
    other.update(worker_id=other_worker.id, batch_id=other_batch.id,
                 return_id=make.return_(batch=other_batch, accepted=1).id)
    for rule in _scoped_get_rules(app):
        own = _get(client, api_client, _url(rule, objects[a.id]))
        theirs = _get(client, api_client, _url(rule, other))
        if own.status_code == 200:
            assert theirs.status_code == 404, rule.rule
        else:
            assert theirs.status_code in (302, 403, 404), rule.rule
