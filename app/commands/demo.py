"""seed-demo: a realistic, idempotent demo (two stations, three clients, forty workers,
three months of orders, batches and returns)."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy import func, select

from app import files
from app.auth.passwords import hash_secret
from app.dates import month_bounds, previous_month
from app.extensions import db
from app.models import User, local_today
from app.services import accounts, catalog, org, production

DEMO_PASSWORD = "jijian-demo"
DEMO_PIN = "258036"  # six digits, not a run or repeat (accounts.check_pin)
STATIONS = [("东城幸福就业车间", "东城区和平街道 12 号", "none"), ("西郊就业创业服务站", "西郊镇振兴路 8 号", "material_cost")]
CLIENTS = [
    ("宁夏红枸杞礼盒有限公司", "马经理", "0951-5012345", "银川市金凤区枸杞大道 88 号", "91640100MA7ABCDE1X", [
        ("黑枸杞礼盒折叠", "个", "0.3500", "0.6000", "0.0500", 200),
        ("礼盒丝带装饰", "个", "0.1200", "0.2000", "0.0100", 300)]),
    ("瑞发假发制品厂", "李厂长", "0374-6123456", "许昌市建安区发制品园 6 号", "91411000MA9XYZ123K", [
        ("假发手工钩针", "顶", "38.0000", "55.0000", "6.0000", 5)]),
    ("绿源纸袋包装厂", "王主管", "0551-6654321", "合肥市包河区纸业路 3 号", "91340100MA2PQRS45T", [
        ("手提纸袋粘贴", "个", "0.0800", "0.1300", "0.0200", 500)]),
]
# The wig is knotted at home, then trimmed and combed in the workshop (rule 14): each step with
# its first rate and the rate it was raised to (the step's history).
STEPS = {"假发手工钩针": [("打结", "30.0000", "32.0000"), ("整理", "5.5000", "6.0000")]}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_F = ["秀英", "桂兰", "玉梅", "淑珍", "丽华", "红霞", "海燕", "春梅", "凤英", "美兰", "金花", "秀兰",
           "翠萍", "晓燕", "彩霞", "玉兰"]
GIVEN_M = ["建国", "志强", "德福", "国庆", "建军", "永福", "卫东", "长江"]


def seed_demo(rng: random.Random | None = None) -> dict:
    """Fill the demo once; a second run changes nothing. Returns the logins."""
    rng = rng or random.Random(2026)
    logins = {"admin": ("admin", DEMO_PASSWORD),
              "supervisors": [("zhan1", DEMO_PASSWORD), ("zhan2", DEMO_PASSWORD)],
              "workers": [("13900000001", DEMO_PIN), ("13900000021", DEMO_PIN)]}
    if db.session.scalar(select(User.id).where(User.username == "admin")) is not None:
        return logins
    stations = [org.create_station(n, a, p) for n, a, p in STATIONS]
    accounts.create_staff("admin", DEMO_PASSWORD, "admin", display_name="运营企业管理员")
    accounts.create_staff("zhan1", DEMO_PASSWORD, "supervisor", stations[0].id, "张站长")
    accounts.create_staff("zhan2", DEMO_PASSWORD, "supervisor", stations[1].id, "刘站长")
    products = []
    for name, contact, phone, address, tax_id, items in CLIENTS:
        client = catalog.create_client(name=name, contact=contact, phone=phone, address=address, tax_id=tax_id)
        for pname, unit, rate, price, cost, size in items:
            steps = STEPS.get(pname)
            products.append(catalog.create_product(
                client_id=client.id, name=pname, unit=unit, piece_rate=None if steps else Decimal(rate),
                unit_price=Decimal(price), material_cost=Decimal(cost), batch_size=size,
                steps=[{"name": n, "piece_rate": Decimal(first)} for n, first, _now in steps] if steps else None))
            for step, (_name, _first, now) in zip(products[-1].steps if steps else (), steps or (), strict=True):
                catalog.update_step(step, piece_rate=Decimal(now))  # a dated change on each step
    workers = []
    today = local_today()
    pin_hash = hash_secret(DEMO_PIN)  # one Argon2 run for forty workers with the same demo PIN
    for i in range(40):
        station = stations[i // 20]
        female = i % 5 != 3
        given = (GIVEN_F[(i * 7) % len(GIVEN_F)] if female else GIVEN_M[(i * 3) % len(GIVEN_M)])
        groups = [g for g, p in (("disabled", .12), ("relocated", .2), ("laid_off", .2), ("flexible", .35)) if rng.random() < p]
        born = today.year - rng.randint(32, 58)
        # The ID number agrees with the birth year and gender (its 17th digit: odd for men).
        sex_digit = rng.choice("13579" if not female else "02468")
        workers.append(org.register_worker(
            name=SURNAMES[i % len(SURNAMES)] + given, phone=f"139{i + 1:08d}", station_id=station.id,
            pin=DEMO_PIN, pin_hash=pin_hash, birth_year=born, gender="F" if female else "M", groups=groups,
            id_number=f"6401{rng.randint(10, 99)}{born}0{rng.randint(1, 9)}1{rng.randint(0, 2)}{rng.randint(10, 99)}{sex_digit}{rng.randint(0, 9)}",
            bank_account=f"6217{rng.randint(10**11, 10**12 - 1)}", bank_name="农村信用社"))
    start = date(today.year, today.month, 1) - timedelta(days=75)
    start = date(start.year, start.month, 1)
    # Residents joined over the past year, each before the first work the demo gives out, so a
    # month's report counts them as registered (not everyone on the seeding day).
    for worker in workers:
        joined = start - timedelta(days=rng.randint(1, 290))
        worker.registered_on = datetime(joined.year, joined.month, joined.day, 2, 0)  # 10:00 in Shanghai
    _attach_pictures(products)
    _seed_production(rng, stations, products, workers, start, today)
    _seed_later_steps(random.Random(14), workers, today)
    _seed_wages(rng, workers, today)
    from app.services import invoicing

    invoicing.update_enterprise_settings(**DEMO_ENTERPRISE)
    return logins


# The demo's issuing enterprise. The payment note says only what the terms do not: the days to
# pay come from each client (printed once on the invoice, from the client's payment terms).
DEMO_ENTERPRISE: dict[str, Any] = {
    "name": "和平街道社区就业服务有限公司", "address": "东城区和平街道 12 号", "phone": "010-6400 1234",
    "tax_id": "91110101MA01ABCD2X", "bank_name": "农村商业银行和平支行", "bank_account": "1100 2233 4455 6677",
    "payment_note": "转账时请在附言中注明结算单号。",
}


# Plain drawings made for the demo (app/static/img/products), one per product: the worker's
# phone shows a picture, not a single character. Served like an uploaded picture.
PICTURES = {"黑枸杞礼盒折叠": "goji-gift-box.svg", "礼盒丝带装饰": "gift-box-ribbon.svg",
            "假发手工钩针": "wig-crochet.svg", "手提纸袋粘贴": "paper-bag.svg"}


def _attach_pictures(products) -> None:
    folder = Path(__file__).resolve().parents[1] / "static" / "img" / "products"
    for product in products:
        name = PICTURES.get(product.name)
        if name:
            stored = files.store_file(name, "image/svg+xml", (folder / name).read_bytes())
            product.picture_id = stored.id
    db.session.flush()


def _seed_wages(rng, workers, today: date) -> None:
    """Last month's pay period, with a few bonuses and deductions, closed through the service;
    this month's period open, so the admin can add adjustments and close it later."""
    from app.services import wages

    last_start, last_end = previous_month(today)
    last = wages.create_pay_period(last_start, last_end)
    reasons = [(Decimal("50.00"), "全勤奖"), (Decimal("30.00"), "质量优秀奖"), (Decimal("-10.00"), "返工扣款"),
               (Decimal("20.00"), "加急订单补贴")]
    for worker, (amount, reason) in zip(rng.sample(workers, k=len(reasons)), reasons, strict=True):
        wages.add_adjustment(worker=worker, period=last, amount=amount, reason=reason)
    wages.close_pay_period(last)
    current = wages.create_pay_period(*month_bounds(today))
    wages.add_adjustment(worker=workers[0], period=current, amount=Decimal("15.00"), reason="带新人补贴")


def _seed_later_steps(rng, workers, today: date) -> None:
    """The workshop trims what came back knotted: at each station one worker takes the wigs
    the knotting step accepted, in a batch or two, and most come back accepted. Its own random
    stream, so the rest of the demo is the same as before steps."""
    from app.models import Order, OrderStep, Return

    orders = db.session.scalars(select(Order).where(Order.id.in_(select(OrderStep.order_id))).order_by(Order.id)).all()
    for order in orders:
        steps = production.order_steps(order)
        if len(steps) < 2 or steps[1]["available"] <= 0:
            continue
        trimmer = next(w for w in workers if w.station_id == order.station_id and w.gender == "M")
        knotted = db.session.scalar(select(func.max(Return.work_date)).where(Return.order_id == order.id)) or today
        issued_on = min(today, knotted)
        available = steps[1]["available"]
        for part in (available // 2, available - available // 2):
            if part <= 0:
                continue
            batch = production.issue_batch(order=order, worker=trimmer, quantity=part, step_id=steps[1]["step_id"],
                                           issued_on=issued_on, due_date=issued_on + timedelta(days=3))
            worked = min(today, issued_on + timedelta(days=1))
            if worked > issued_on or rng.random() < 0.5:
                rejected = 1 if part > 3 and rng.random() < 0.3 else 0
                production.record_return(batch=batch, accepted=part - rejected, rejected=rejected, work_date=worked)


def _seed_production(rng, stations, products, workers, start: date, today: date) -> None:
    day = start
    orders: list = []
    while day <= today:
        if day.day in (1, 10, 20) or not orders:
            for station in stations:
                product = rng.choice(products)
                qty = product.batch_size * rng.randint(20, 40)
                order = production.create_order(client_id=product.client_id, product_id=product.id,
                                                station_id=station.id, quantity=qty,
                                                due_date=day + timedelta(days=rng.randint(20, 40)), taken_on=day)
                orders.append(order)
        for order in [o for o in orders if o.status == "open" and o.unissued > 0]:
            local = [w for w in workers if w.station_id == order.station_id]
            for worker in rng.sample(local, k=min(len(local), rng.randint(0, 3))):
                size = min(order.unissued, order.product.batch_size)
                if size <= 0:
                    break
                production.issue_batch(order=order, worker=worker, quantity=size, issued_on=day,
                                       due_date=day + timedelta(days=rng.randint(3, 8)))
        day += timedelta(days=1)
    # Returns: most batches come back in parts; the youngest ones stay out, a few go overdue.
    from app.models import Batch

    for batch in db.session.scalars(select(Batch).order_by(Batch.id)).all():
        age = (today - batch.issued_on).days
        if age < 2 or rng.random() < 0.06:
            continue
        parts = rng.randint(1, 3)
        left = batch.quantity
        for part in range(parts):
            work_date = min(today, batch.issued_on + timedelta(days=rng.randint(1, max(1, min(age, 9)))))
            if part == parts - 1:
                qty = left if age > 10 else rng.randint(0, left)
            else:
                qty = rng.randint(0, left // 2)
            if qty <= 0:
                continue
            rejected = int(qty * rng.choice((0, 0, 0, 0.02, 0.05)))
            unused = rng.choice((0, 0, 0, min(2, qty - rejected)))
            accepted = qty - rejected - unused
            production.record_return(batch=batch, accepted=accepted, rejected=rejected, unused=unused, work_date=work_date)
            left -= qty
        if batch.outstanding <= 3 and age > 14:
            production.close_batch(batch=batch, reason="demo")


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Fill the database with demo data (once) and print the demo logins."""
        logins = seed_demo()
        db.session.commit()
        click.echo("Jijian demo — http://127.0.0.1:5000")
        click.echo(f"  admin:       {logins['admin'][0]} / {logins['admin'][1]}")
        for name, pw in logins["supervisors"]:
            click.echo(f"  supervisor:  {name} / {pw}")
        for phone, pin in logins["workers"]:
            click.echo(f"  worker:      phone {phone} / PIN {pin}   (http://127.0.0.1:5000/w/login)")
