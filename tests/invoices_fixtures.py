"""Helpers for the invoice tests: a client with accepted pieces on several orders."""
from __future__ import annotations

from app.extensions import db
from app.models import Client, Order


def accepted_pieces(make, client=None, orders=((100, "0.6000", 40),), station=None, product_name=None):
    """A client whose orders have accepted pieces: ``orders`` is (quantity, unit_price, accepted) each."""
    client = client or make.client()
    station = station or make.station()
    worker = make.worker(station=station)
    made = []
    for quantity, unit_price, accepted in orders:
        kw = {"name": product_name} if product_name else {}
        product = make.product(client=client, unit_price=unit_price, **kw)
        order = make.order(station=station, product=product, quantity=quantity)
        if accepted:
            batch = make.batch(order=order, worker=worker, quantity=accepted)
            make.return_(batch=batch, accepted=accepted)
        made.append(order.id)
    db.session.expire_all()
    return db.session.get(Client, client.id), [db.session.get(Order, i) for i in made]
