"""Callable makers: each builds one realistic row through the services and commits it."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from app.extensions import db
from app.models import local_today
from app.services import accounts, catalog, org, production

_seq = itertools.count(1)


class Makers:
    def station(self, name=None, shortfall_policy="none"):
        s = org.create_station(name or f"站点{next(_seq)}", "测试路 1 号", shortfall_policy)
        db.session.commit()
        return s

    def staff(self, role="admin", station=None, username=None, password="correct-horse"):
        if role == "supervisor" and station is None:
            station = self.station()
        u = accounts.create_staff(username or f"{role}{next(_seq)}", password, role,
                                  station.id if station else None)
        db.session.commit()
        return u

    def worker(self, station=None, name=None, phone=None, pin="258036", **kw):
        station = station or self.station()
        w = org.register_worker(name=name or f"工人{next(_seq)}", phone=phone or f"138{next(_seq):08d}",
                                station_id=station.id, pin=pin, **kw)
        db.session.commit()
        return w

    def client(self, name=None, **kw):
        c = catalog.create_client(name=name or f"客户{next(_seq)}", **kw)
        db.session.commit()
        return c

    def product(self, client=None, piece_rate="0.3500", unit_price="0.6000", material_cost="0.0500", **kw):
        client = client or self.client()
        p = catalog.create_product(client_id=client.id, name=kw.pop("name", f"品种{next(_seq)}"),
                                   piece_rate=Decimal(piece_rate), unit_price=Decimal(unit_price),
                                   material_cost=Decimal(material_cost), **kw)
        db.session.commit()
        return p

    def order(self, station=None, product=None, quantity=1000, due_in_days=30, **kw):
        """An order due ``due_in_days`` from today, taken ``taken_days_ago`` (default 1,500: a
        test may back-date its batches, into the reports of past years too) or on ``taken_on``."""
        station = station or self.station()
        product = product or self.product()
        today = local_today()
        kw.setdefault("taken_on", today - timedelta(days=kw.pop("taken_days_ago", 1500)))
        o = production.create_order(client_id=product.client_id, product_id=product.id, station_id=station.id,
                                    quantity=quantity, due_date=today + timedelta(days=due_in_days), **kw)
        db.session.commit()
        return o

    def batch(self, order=None, worker=None, quantity=100, **kw):
        order = order or self.order()
        worker = worker or self.worker(station=order.station)
        b = production.issue_batch(order=order, worker=worker, quantity=quantity, **kw)
        db.session.commit()
        return b

    def return_(self, batch=None, accepted=10, rejected=0, unused=0, **kw):
        batch = batch or self.batch()
        r = production.record_return(batch=batch, accepted=accepted, rejected=rejected, unused=unused, **kw)
        db.session.commit()
        return r
