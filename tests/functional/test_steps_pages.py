"""The product page's steps (rule 14) for an admin: add a step with its first dated rate,
rename one, give one a new rate from a day (history kept, the past never rewritten), and
reorder them only while no batch has been handed out. Bad input stores nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.models import Batch, OrderStep, ProductStep, ProductStepRate
from app.services import catalog, production
from tests.helpers import csrf_token, form_values
from tests.production_pages_fixtures import follow


def _post(client, get_url, post_url, prefix, data):
    """Post one of a page's prefixed forms as the browser does: its hidden values plus ``data``
    (a form the page does not show gets the page's CSRF token, as a stale page would send)."""
    page = client.get(get_url)
    assert page.status_code == 200, page.status_code
    hidden = {k: v for k, v in form_values(page.text).items() if k.startswith(prefix + "-")}
    hidden.setdefault(f"{prefix}-csrf_token", csrf_token(page.text))
    body = {**hidden, **{f"{prefix}-{k}": v for k, v in data.items()}}
    return client.post(post_url, data=body), body


def _steps(product):
    db.session.expire_all()
    return [(st.seq, st.name, st.piece_rate) for st in db.session.scalars(
        select(ProductStep).where(ProductStep.product_id == product.id).order_by(ProductStep.seq))]


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_admin_adds_a_step_once_and_bad_input_stores_nothing(client, login_as, make, clock):
    login_as("admin")
    product = make.product(name="假发", piece_rate="38.0000")
    page = f"/products/{product.id}/edit"
    resp, body = _post(client, page, f"/products/{product.id}/steps", "step",
                       {"name": "整理", "piece_rate": "6.5", "effective_on": clock.today.isoformat()})
    assert resp.status_code == 303, resp.text
    assert client.post(f"/products/{product.id}/steps", data=body).status_code == 303  # a double tap: once
    assert _steps(product) == [(1, "假发", Decimal("38.0000")), (2, "整理", Decimal("6.5000"))]
    shown = follow(client, resp).text
    assert "整理" in shown and "¥6.50" in shown and "¥44.50" in shown  # the product's rate: the steps' sum
    rates, steps = _count(ProductStepRate), _count(ProductStep)
    for data, message in (({"name": " ", "piece_rate": "1"}, "必填"),
                          ({"name": "包装", "piece_rate": "-1"}, "不能为负"),
                          ({"name": "包装", "piece_rate": "0.12345"}, "4"),
                          ({"name": "包装", "piece_rate": "1", "effective_on": clock.days_ago(1).isoformat()}, "今天或以后"),
                          ({"name": "包装" * 30, "piece_rate": "1"}, "50")):
        resp, _ = _post(client, page, f"/products/{product.id}/steps", "step", data)
        assert resp.status_code == 422, (data, resp.status_code)
        assert message in resp.text, data
    assert (_count(ProductStepRate), _count(ProductStep)) == (rates, steps)


def test_a_product_with_orders_gets_no_new_step_and_says_why(client, login_as, make):
    login_as("admin")
    product = make.product()
    make.order(product=product)
    page = client.get(f"/products/{product.id}/edit").text
    assert "已有订单" in page and 'name="step-name"' not in page
    resp, _ = _post(client, f"/products/{product.id}/edit", f"/products/{product.id}/steps", "step",
                    {"name": "整理", "piece_rate": "1"})
    assert resp.status_code == 409 and "已有订单" in resp.text
    assert len(_steps(product)) == 1


def test_rename_a_step_keeps_its_rate_and_history(client, login_as, make):
    login_as("admin")
    product = make.product(name="礼盒", piece_rate="0.3500")
    (step,) = db.session.scalars(select(ProductStep).where(ProductStep.product_id == product.id)).all()
    url = f"/products/{product.id}/steps/{step.id}"
    resp, _ = _post(client, url, url, "rename", {"name": "折盒"})
    assert resp.status_code == 303
    assert _steps(product) == [(1, "折盒", Decimal("0.3500"))]
    resp, _ = _post(client, url, url, "rename", {"name": "  "})
    assert resp.status_code == 422 and "必填" in resp.text
    assert _steps(product)[0][1] == "折盒"
    other = make.product()
    assert client.get(f"/products/{other.id}/steps/{step.id}").status_code == 404  # another product's step


def test_a_dated_rate_waits_for_its_day_and_never_rewrites_the_past(client, login_as, make, clock):
    login_as("admin")
    product = make.product(name="礼盒", piece_rate="0.3500")
    (step,) = db.session.scalars(select(ProductStep).where(ProductStep.product_id == product.id)).all()
    order = make.order(product=product, quantity=1000)
    worker = make.worker(station=order.station)
    url, rate_url = f"/products/{product.id}/steps/{step.id}", f"/products/{product.id}/steps/{step.id}/rates"
    # Refused: a day in the past, no rate, a bad rate — nothing stored.
    before = _count(ProductStepRate)
    for data in ({"piece_rate": "0.40", "effective_on": clock.days_ago(1).isoformat()},
                 {"piece_rate": "", "effective_on": clock.today.isoformat()},
                 {"piece_rate": "abc", "effective_on": clock.today.isoformat()},
                 {"piece_rate": "0.40", "effective_on": "31/12"}):
        resp, _ = _post(client, url, rate_url, "rate", data)
        assert resp.status_code == 422, data
    assert _count(ProductStepRate) == before
    # From next week: today's batches keep 0.35; the page shows it to come.
    next_week = clock.today + timedelta(days=7)
    resp, _ = _post(client, url, rate_url, "rate", {"piece_rate": "0.40", "effective_on": next_week.isoformat()})
    assert resp.status_code == 303, resp.text
    shown = follow(client, resp).text
    assert "¥0.40" in shown and next_week.isoformat() in shown and "待生效" in shown
    assert _steps(product)[0][2] == Decimal("0.3500")
    assert make.batch(order=order, worker=worker, quantity=10).piece_rate == Decimal("0.3500")
    assert "¥0.40" in client.get(f"/products/{product.id}/edit").text  # the next rate, beside today's
    # On its day it is the step's rate (and the product's), for every batch entered from then.
    clock.move_to(next_week)
    login_as("admin")  # a week later: a new session
    assert catalog.rate_on(step, next_week - timedelta(days=1)) == Decimal("0.3500")
    back = make.batch(order=order, worker=worker, quantity=10)
    assert back.piece_rate == Decimal("0.4000")
    assert _steps(product)[0][2] == Decimal("0.4000")
    db.session.expire_all()
    assert db.session.get(type(product), product.id).piece_rate == Decimal("0.4000")
    # From today: at once, with every earlier rate still in the history.
    resp, _ = _post(client, url, rate_url, "rate", {"piece_rate": "0.45", "effective_on": next_week.isoformat()})
    assert resp.status_code == 303
    assert _steps(product)[0][2] == Decimal("0.4500")
    assert [r.piece_rate for r in db.session.scalars(select(ProductStepRate).where(
        ProductStepRate.step_id == step.id).order_by(ProductStepRate.id))] == [
        Decimal("0.3500"), Decimal("0.4000"), Decimal("0.4500")]
    assert db.session.get(Batch, back.id).piece_rate == Decimal("0.4000")


def test_steps_are_reordered_only_while_no_batch_has_been_handed_out(client, login_as, make):
    login_as("admin")
    client_row = make.client()
    product = catalog.create_product(client_id=client_row.id, name="假发", piece_rate=None, unit_price=Decimal("60"),
                                     steps=[{"name": "整理", "piece_rate": Decimal("6")},
                                            {"name": "打结", "piece_rate": Decimal("38")}])
    db.session.commit()
    order = make.order(product=product, quantity=10)  # taken, nothing handed out yet
    steps = {name: sid for _seq, name, sid in [(st.seq, st.name, st.id) for st in product.steps]}
    page = f"/products/{product.id}/edit"
    resp, _ = _post(client, page, f"/products/{product.id}/steps/{steps['打结']}/move", "move", {"direction": "up"})
    assert resp.status_code == 303 and "已调整工序顺序" in follow(client, resp).text
    assert [name for _s, name, _r in _steps(product)] == ["打结", "整理"]
    rows = db.session.execute(select(OrderStep.step_id, OrderStep.seq, OrderStep.last)
                              .where(OrderStep.order_id == order.id).order_by(OrderStep.seq)).all()
    assert [tuple(r) for r in rows] == [(steps["打结"], 1, False), (steps["整理"], 2, True)]
    # The order's first step is now knotting: it is what can be handed out.
    assert production.default_step(production.order_steps(order))["step_id"] == steps["打结"]
    # Once a batch is out, the order of work stays.
    make.batch(order=order, quantity=5, step_id=steps["打结"])
    assert "↓" not in client.get(page).text.split('id="steps"')[1].split("</table>")[0]
    resp, _ = _post(client, page, f"/products/{product.id}/steps/{steps['打结']}/move", "move",
                    {"direction": "down"})
    page_after = follow(client, resp).text
    assert "工序保持原顺序" in page_after
    assert [name for _s, name, _r in _steps(product)] == ["打结", "整理"]


def test_the_api_gives_a_step_a_dated_rate_with_the_pages_answers(api, make, clock):
    admin = api(role="admin")
    product = make.product(piece_rate="0.3500")
    step_id = product.steps[0].id
    url = f"/products/{product.id}/steps/{step_id}"
    resp = admin.patch(url, json={"piece_rate": "0.40", "effective_on": clock.days_ago(1).isoformat()})
    assert resp.status_code == 422 and "effective_on" in resp.get_json()["error"]["fields"]
    resp = admin.patch(url, json={"effective_on": (clock.today + timedelta(days=3)).isoformat()})
    assert resp.status_code == 422 and "piece_rate" in resp.get_json()["error"]["fields"]
    resp = admin.patch(url, json={"piece_rate": "0.40", "effective_on": (clock.today + timedelta(days=3)).isoformat()})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["piece_rate"] == "0.3500" and [r["piece_rate"] for r in body["rates"]] == ["0.4000", "0.3500"]


def test_a_step_changed_by_someone_else_meanwhile_is_refused_with_a_plain_message(client, login_as, make):
    """Two admins on the same step's page: the later save is refused, nothing overwritten (rule 9)."""
    login_as("admin")
    product = make.product(name="礼盒", piece_rate="0.3500")
    step = product.steps[0]
    url = f"/products/{product.id}/steps/{step.id}"
    page = client.get(url).text
    hidden = {k: v for k, v in form_values(page).items() if k.startswith("rename-")}
    catalog.update_step(step, name="折盒")  # the other admin, meanwhile
    db.session.commit()
    resp = client.post(url, data={**hidden, "rename-name": "叠盒"})
    assert resp.status_code == 409 and "其他人刚刚保存了这条记录" in resp.text
    assert _steps(product)[0][1] == "折盒"
    # Reloaded, the page carries the new version and the rename goes through.
    resp, _ = _post(client, url, url, "rename", {"name": "叠盒"})
    assert resp.status_code == 303 and _steps(product)[0][1] == "叠盒"
