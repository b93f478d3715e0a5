"""Report shortcuts, the explanation when active exceeds registered; the demo registers its
workers over the past year and ships a drawing for each product (findings 9 and 10)."""
from datetime import date, timedelta

from sqlalchemy import func, select

from app.dates import month_bounds, previous_month
from app.extensions import db
from app.models import Product, StoredFile, Worker, local_today
from app.reports.views import default_range, range_shortcuts
from app.services.reports import employment_report


def test_shortcuts_cover_last_month_this_quarter_and_year_and_suggest_last_month_early(app):
    with app.test_request_context("/"):
        early = {r["label"]: r for r in range_shortcuts(date(2026, 1, 2))}
        assert (early["上个月"]["from"], early["上个月"]["to"]) == (date(2025, 12, 1), date(2025, 12, 31))
        assert early["上个月"]["suggested"] and not early["本月"]["suggested"]
        assert (early["本季度"]["from"], early["本季度"]["to"]) == (date(2026, 1, 1), date(2026, 3, 31))
        late = {r["label"]: r for r in range_shortcuts(date(2024, 11, 29))}
        assert late["本月"]["suggested"] and (late["本季度"]["from"], late["本季度"]["to"]) == (date(2024, 10, 1), date(2024, 12, 31))
        assert (late["今年"]["to"], late["去年"]["from"]) == (date(2024, 12, 31), date(2023, 1, 1))
    # The report opens on the suggested range: never on a month a few days old.
    assert default_range(date(2026, 1, 2)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert default_range(date(2026, 3, 9)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert default_range(date(2024, 11, 29)) == (date(2024, 11, 1), date(2024, 11, 30))


def test_report_page_has_the_shortcuts_and_explains_active_above_registered(client, login_as, make):
    station = make.station()
    worker = make.worker(station=station, birth_year=local_today().year - 70)  # past working age
    make.return_(batch=make.batch(order=make.order(station=station), worker=worker, quantity=20), accepted=3)
    login_as("admin")
    start, end = month_bounds(local_today())
    html = client.get(f"/reports/employment?from={start}&to={end}").text
    assert 'class="range-shortcuts' in html and "上个月" in html and "本季度" in html
    note = html[html.index('id="active-above-registered"'):]
    assert "1 人不在劳动年龄内" in note.split("</p>")[0]


def test_active_registered_after_the_range_is_counted_and_named(app, make):
    from datetime import datetime

    station = make.station()
    worker = make.worker(station=station)
    batch = make.batch(order=make.order(station=station), worker=worker, quantity=20)
    make.return_(batch=batch, accepted=3)
    start, end = month_bounds(local_today())
    later = end + timedelta(days=1)
    worker.registered_on = datetime(later.year, later.month, later.day, 2, 0)  # recorded late, after the month
    db.session.commit()
    report = employment_report(start, end)
    assert (report["workers_active"], report["registered"]) == (1, 0)
    assert report["active_not_counted_as_registered"] == {"registered_after_range": 1, "outside_working_age": 0}


def test_demo_registers_workers_over_the_past_year_with_product_drawings(app, db):
    from app.commands.demo import seed_demo

    seed_demo()
    db.session.commit()
    first, last = db.session.execute(select(func.min(Worker.registered_on), func.max(Worker.registered_on))).one()
    assert (last - first).days > 120 and (local_today() - last.date()).days > 60
    prev_first, prev_last = previous_month(local_today())
    report = employment_report(prev_first, prev_last)
    left_out = report["active_not_counted_as_registered"]
    assert report["workers_active"] > 0 and left_out["registered_after_range"] == 0  # all joined before working
    assert report["registered"] + left_out["outside_working_age"] >= report["workers_active"]
    pictures = db.session.scalars(select(StoredFile).join(Product, Product.picture_id == StoredFile.id)).all()
    assert len(pictures) == 4 and all(p.content_type == "image/svg+xml" and b"<svg" in p.data for p in pictures)


def test_a_product_drawing_is_served_with_a_sandbox(client, login_as, app, db):
    from app.commands.demo import seed_demo

    seed_demo()
    db.session.commit()
    login_as("admin")
    product = db.session.scalar(select(Product).where(Product.picture_id.is_not(None)))
    resp = client.get(f"/products/{product.id}/picture")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert "sandbox" in resp.headers["Content-Security-Policy"]
