"""Found by bench.crash on PostgreSQL: a correction whose request had loaded the batch while
open, recorded after another tablet closed it, left the closed batch's shortfall behind."""
from __future__ import annotations

import threading

from app.db_tx import begin_write_phase, read_first
from app.extensions import db
from app.models import Batch, Return
from app.services import production
from tests.helpers import assert_ledger_holds


def test_a_correction_recorded_after_a_concurrent_close_moves_the_shortfall_too(app, make):
    batch = make.batch(quantity=50)
    first = make.return_(batch=batch, accepted=20)
    read_first()  # as the API does: read (the batch, the original) first, then write
    original = db.session.get(Return, first.id)
    loaded = db.session.get(Batch, batch.id)
    assert loaded.status == "open"  # this request's view of the batch

    def close_elsewhere():
        with app.app_context():
            production.close_batch(batch=db.session.get(Batch, batch.id), reason="收工")
            db.session.commit()
            db.session.remove()

    other = threading.Thread(target=close_elsewhere)
    other.start()
    other.join()
    begin_write_phase()  # keeps what was read loaded, the batch as it was: open
    production.record_correction(original=original, accepted=-1, reason="数错了")
    db.session.commit()
    closed = db.session.get(Batch, batch.id)
    assert closed.status == "closed" and closed.shortfall == 31
    assert_ledger_holds()
