"""get_visible_or_404 builds each model's scoped statement once per role, whatever loader
options its callers add (freshly built joinedload() objects never compare equal), and the
statement with a caller's options once for each tuple of them built once (a module constant)."""
import pytest
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from app.models import Batch, Order
from app.permissions import _visible_by_id, _visible_by_id_loading, get_visible_or_404


def test_record_pages_reuse_one_statement_per_model_and_role(make):
    station = make.station()
    supervisor = make.staff("supervisor", station=station)
    batch = make.batch(order=make.order(station=station))
    _visible_by_id.cache_clear()
    for _ in range(3):
        found = get_visible_or_404(Batch, batch.id, user=supervisor,
                                   options=(joinedload(Batch.worker), joinedload(Batch.order).joinedload(Order.client)))
        assert found.id == batch.id
    info = _visible_by_id.cache_info()
    assert (info.hits, info.misses, info.currsize) == (2, 1, 1)


def test_another_stations_record_is_404_through_the_shared_statement(make):
    mine, other = make.station(), make.station()
    supervisor = make.staff("supervisor", station=mine)
    batch = make.batch(order=make.order(station=other))
    with pytest.raises(NotFound):
        get_visible_or_404(Batch, batch.id, user=supervisor, options=(joinedload(Batch.worker),))


def test_a_pages_loader_options_built_once_find_their_statement_built_once(make):
    station = make.station()
    supervisor = make.staff("supervisor", station=station)
    batch = make.batch(order=make.order(station=station))
    page_loads = (joinedload(Batch.worker), joinedload(Batch.order).joinedload(Order.client))
    _visible_by_id_loading.cache_clear()
    for _ in range(3):
        found = get_visible_or_404(Batch, batch.id, user=supervisor, options=page_loads)
        assert found.id == batch.id and found.worker.id == batch.worker_id and found.order.client is not None
    info = _visible_by_id_loading.cache_info()
    assert (info.hits, info.misses, info.currsize) == (2, 1, 1)
