"""Paged lists load in a fixed number of queries whatever the number of rows, and the
workers pages: register (own station only for supervisors), detail, search."""
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import Station, Worker, local_today
from app.services import catalog, org, production
from tests.production_pages_fixtures import follow, submit


def add_rows(station, product, n):
    """n orders of n new products, each with one overdue batch of a new worker and one return:
    every list grows by n rows that share nothing an identity map could cache."""
    for _ in range(n):
        product = catalog.create_product(client_id=product.client_id, name=f"品种{_seq()}",
                                         piece_rate=Decimal("0.35"), unit_price=Decimal("0.6"))
        worker = org.register_worker(name=f"工人{_seq()}", phone=f"137{_seq():08d}", station_id=station.id, pin="258036")
        order = production.create_order(client_id=product.client_id, product_id=product.id, station_id=station.id,
                                        quantity=100, due_date=local_today() + timedelta(days=10),
                                        taken_on=local_today() - timedelta(days=30))
        batch = production.issue_batch(order=order, worker=worker, quantity=20,
                                       issued_on=local_today() - timedelta(days=5),
                                       due_date=local_today() - timedelta(days=1))
        production.record_return(batch=batch, accepted=3, rejected=1)
    _db.session.commit()


_counter = iter(range(10_000, 99_999))


def _seq():
    return next(_counter)


PAGES = {
    "orders": lambda s, w: "/orders",
    "board": lambda s, w: f"/stations/{s.id}/board",
    "batches": lambda s, w: "/batches",
    "overdue": lambda s, w: "/batches/overdue",
    "all batches": lambda s, w: "/batches?status=all",
    "workers": lambda s, w: "/workers",
    "issue picker": lambda s, w: f"/orders/{w['order'].id}/issue",
    "worker page": lambda s, w: f"/workers/{w['worker'].id}",
}


def test_list_pages_take_the_same_number_of_queries_for_3_and_30_rows(client, login_as, make, count_queries):
    station = make.station()
    supervisor = login_as("supervisor", station=station)
    admin = make.staff("admin")
    product = make.product()
    add_rows(station, product, 3)
    # The worker page grows by its history: give one worker as many batches and returns as rows.
    worker = make.worker(station=station)
    order = make.order(station=station, product=product, quantity=10_000)

    def grow_worker(n):
        for _ in range(n):
            b = production.issue_batch(order=order, worker=worker, quantity=5)
            production.record_return(batch=b, accepted=2)
        _db.session.commit()

    def measure():
        counts = {}
        for account in (supervisor, admin):
            login_as(account=account)
            for name, url in PAGES.items():
                url = url(station, {"worker": worker, "order": order})
                with count_queries() as queries:
                    assert client.get(url).status_code == 200, url
                counts[f"{account.role} {name}"] = len(queries)
        return counts

    grow_worker(3)
    measure()  # warm up: first-request work is not the page's
    few = measure()
    add_rows(station, product, 27)
    grow_worker(27)
    many = measure()
    assert many == few
    # The issue page also asks for the plan's paces and who holds overdue work: 13 at most.
    assert max(few.values()) <= 13, few


def test_overdue_list_shows_only_open_batches_past_their_due_date(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    order = make.order(station=station)
    late = make.batch(order=order, quantity=10, issued_on=local_today() - timedelta(days=9),
                      due_date=local_today() - timedelta(days=2))
    on_time = make.batch(order=order, quantity=10)
    page = client.get("/batches/overdue").text
    assert late.code in page and on_time.code not in page and "逾期" in page


def test_lists_are_paged(client, login_as, make):
    station = make.station()
    login_as("supervisor", station=station)
    product = make.product()
    add_rows(station, product, 27)
    first = client.get("/batches?status=all").text
    second = client.get("/batches?status=all&page=2").text
    codes_first = set(re.findall(r'class="code" href="/batches/\d+">(\w+)<', first))
    codes_second = set(re.findall(r'class="code" href="/batches/\d+">(\w+)<', second))
    assert len(codes_first) == 25 and len(codes_second) == 2 and not codes_first & codes_second
    assert "第 1 页" in first or "1 / 2" in first or "页" in first


def test_supervisor_registers_a_worker_at_their_own_station_only(client, login_as, make, db):
    mine, theirs = make.station(), make.station()
    login_as("supervisor", station=mine)
    data = {"name": "李桂兰", "phone": "13912345678", "pin": "246813", "birth_year": "1975", "gender": "F",
            "groups": ["relocated"]}
    refused, _ = submit(client, "/workers/new", {**data, "station_id": str(theirs.id)})
    assert refused.status_code == 422 and "没有这个站点" in refused.text
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 0
    resp, posted = submit(client, "/workers/new", {**data, "station_id": str(mine.id)})
    assert resp.status_code == 303
    assert client.post("/workers/new", data=posted).headers["Location"] == resp.headers["Location"]
    worker = db.session.scalar(select(Worker))
    assert worker.station_id == mine.id and worker.groups == ["relocated"] and worker.pin_hash != "246813"
    assert "李桂兰" in follow(client, resp).text


def test_bad_phone_and_taken_phone_are_refused_in_chinese(client, login_as, make, db):
    station = make.station()
    login_as("supervisor", station=station)
    make.worker(station=station, phone="13900000001")
    resp, _ = submit(client, "/workers/new", {"name": "张三", "phone": "12345", "pin": "258036", "station_id": str(station.id)})
    assert resp.status_code == 422 and "以 1 开头的 11 位数字" in resp.text
    resp, _ = submit(client, "/workers/new", {"name": "张三", "phone": "13900000001", "pin": "258036",
                                              "station_id": str(station.id)})
    assert resp.status_code == 409 and "该手机号已登记" in resp.text
    assert db.session.scalar(select(func.count()).select_from(Worker)) == 1


def test_worker_page_shows_what_they_hold_and_their_history(client, login_as, make):
    station = make.station()
    login_as("supervisor", station=station)
    worker = make.worker(station=station, name="周凤英")
    order = make.order(station=station, product=make.product(name="礼盒丝带装饰"))
    batch = make.batch(order=order, worker=worker, quantity=60)
    make.return_(batch=batch, accepted=25, rejected=5)
    page = client.get(f"/workers/{worker.id}").text
    assert "周凤英" in page and batch.code in page and "礼盒丝带装饰" in page
    assert re.search(r"<b>30</b> / 60", page)


def test_worker_search_by_name_or_phone(client, login_as, make):
    station = make.station()
    login_as("supervisor", station=station)
    a = make.worker(station=station, name="马金花", phone="13811112222")
    make.worker(station=station, name="罗德福", phone="13833334444")
    assert "马金花" in client.get("/workers?q=金花").text
    found = client.get(f"/workers?q={a.phone[-4:]}").text
    assert "马金花" in found and "罗德福" not in found


def test_supervisor_sees_only_their_stations_workers_and_batches(client, login_as, make):
    mine = make.station()
    login_as("supervisor", station=mine)
    theirs = make.batch()
    page = client.get("/workers").text
    assert theirs.worker.name not in page
    assert theirs.code not in client.get("/batches?status=all").text
    assert theirs.order.number not in client.get("/orders").text


def test_admin_registers_a_worker_with_sensitive_fields(client, login_as, make, db):
    station = make.station()
    login_as("admin")
    resp, _ = submit(client, "/workers/new", {"name": "林秀兰", "phone": "13700001111", "pin": "135792",
                                              "station_id": str(station.id), "id_number": "11010519800101002X",
                                              "bank_account": "6222020200112233"})
    assert resp.status_code == 303
    page = follow(client, resp).text
    assert "6222020200112233" not in page and "6222********2233" in page  # masked until revealed (finding 11)


def test_supervisor_home_has_the_code_box_and_the_board_button(client, login_as, make):
    station = make.station()
    login_as("supervisor", station=station)
    home = client.get("/home").text
    assert 'action="/scan"' in home and "登记收货" in home and f"/stations/{station.id}/board" in home
    assert "订单看板" in home and "/workers" in home


def test_admin_nav_has_the_catalogue(client, login_as):
    login_as("admin")
    home = client.get("/home").text
    assert 'href="/clients"' in home and 'href="/products"' in home and 'href="/orders"' in home


def test_workers_pages_are_for_staff_only(client, login_as, make):
    worker = login_as("worker")
    assert client.get("/workers").status_code == 403
    assert client.get(f"/workers/{worker.id}").status_code == 403
    assert _db.session.get(Station, worker.station_id) is not None


def test_pages_speak_english_when_chosen(client, login_as, make):
    station = make.station()
    login_as("supervisor", station=station)
    batch = make.batch(order=make.order(station=station))
    board = client.get(f"/stations/{station.id}/board?lang=en").text
    assert "Orders board" in board and "Scan the ticket or type its code" in board and "订单看板" not in board
    form = client.get(f"/batches/{batch.id}/return").text
    assert "All 100 good — save" in form
