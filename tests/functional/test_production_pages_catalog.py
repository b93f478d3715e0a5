"""Admin pages for clients and products: bad input stores nothing, pictures live in the
database, rate history, and a stale save is refused with a plain message (rule 9)."""
from io import BytesIO

from sqlalchemy import func, select

from app.models import Client, Product, ProductRate, StoredFile
from tests.helpers import form_values
from tests.production_pages_fixtures import PNG, follow, submit

STALE_ZH = "其他人刚刚保存了这条记录"


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_client_without_a_name_is_refused_in_chinese_and_nothing_is_stored(client, login_as, db):
    login_as("admin")
    resp, _ = submit(client, "/clients/new", {"name": "  ", "contact": "马经理"})
    assert resp.status_code == 422
    assert "必填" in resp.text and "马经理" in resp.text
    assert count(db, Client) == 0


def test_client_is_created_once_when_the_form_is_sent_twice(client, login_as, db):
    login_as("admin")
    first, posted = submit(client, "/clients/new", {"name": "宁夏红枸杞礼盒有限公司", "payment_terms_days": "30"})
    assert first.status_code == 303
    again = client.post("/clients/new", data=posted)
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    assert count(db, Client) == 1
    assert "宁夏红枸杞礼盒有限公司" in follow(client, first).text


def test_duplicate_client_name_is_refused_with_a_plain_message(client, login_as, make, db):
    login_as("admin")
    make.client(name="瑞发假发制品厂")
    resp, _ = submit(client, "/clients/new", {"name": "瑞发假发制品厂"})
    assert resp.status_code == 409 and "已有同名客户" in resp.text
    assert count(db, Client) == 1


def test_product_with_picture_is_stored_in_the_database_and_served(client, login_as, make, db):
    login_as("admin")
    owner = make.client()
    resp, _ = submit(client, "/products/new", {"client_id": str(owner.id), "name": "黑枸杞礼盒折叠", "unit": "个",
                                               "piece_rate": "0.035", "unit_price": "0.06", "material_cost": "0.005",
                                               "batch_size": "200"},
                     files={"picture": (BytesIO(PNG), "box.png")})
    assert resp.status_code == 303, resp.text
    product = db.session.scalar(select(Product))
    assert str(product.piece_rate) == "0.0350" and product.batch_size == 200
    picture = client.get(f"/products/{product.id}/picture")
    from PIL import Image

    assert picture.status_code == 200 and picture.mimetype in ("image/png", "image/jpeg")
    assert Image.open(BytesIO(picture.data)).size == (1, 1)  # re-encoded (app/images.py)
    page = follow(client, resp).text
    assert f"/products/{product.id}/picture" in page and "¥0.035" in page


def test_a_file_that_is_not_a_picture_is_refused_and_nothing_is_stored(client, login_as, make, db):
    login_as("admin")
    owner = make.client()
    resp, _ = submit(client, "/products/new", {"client_id": str(owner.id), "name": "纸袋", "piece_rate": "0.08",
                                               "unit_price": "0.13"},
                     files={"picture": (BytesIO(b"#!/bin/sh\necho hi\n"), "evil.png")})
    assert resp.status_code == 422
    assert "请上传 JPEG、PNG 或 WebP 图片" in resp.text
    assert count(db, Product) == 0 and count(db, StoredFile) == 0


def test_a_rate_with_five_decimals_is_refused_in_chinese(client, login_as, make, db):
    login_as("admin")
    owner = make.client()
    resp, _ = submit(client, "/products/new", {"client_id": str(owner.id), "name": "纸袋", "piece_rate": "0.03555",
                                               "unit_price": "0.13"})
    assert resp.status_code == 422 and "4" in resp.text and "小数" in resp.text
    assert count(db, Product) == 0


def test_rate_change_is_dated_in_the_history_shown_on_the_product_page(client, login_as, make, db):
    login_as("admin")
    product = make.product(piece_rate="0.3500")
    url = f"/products/{product.id}/edit"
    resp, _ = submit(client, url, {"piece_rate": "0.4", "unit_price": "0.6"})
    assert resp.status_code == 303
    assert count(db, ProductRate) == 2
    page = client.get(url).text
    assert "¥0.35" in page and "¥0.40" in page and "单价变更记录" in page


def test_two_people_editing_one_product_the_later_save_is_refused(client, login_as, make, db):
    login_as("admin")
    product = make.product(name="礼盒丝带装饰", piece_rate="0.1200")
    url = f"/products/{product.id}/edit"
    first_page = client.get(url).text
    second_page = client.get(url).text
    base = {"client_id": str(product.client_id), "name": "礼盒丝带装饰", "unit": "个", "unit_price": "0.2",
            "batch_size": "300"}
    first = client.post(url, data={**form_values(first_page), **base, "piece_rate": "0.13"})
    assert first.status_code == 303
    later = client.post(url, data={**form_values(second_page), **base, "piece_rate": "0.15"})
    assert later.status_code == 409 and STALE_ZH in later.text
    db.session.expire_all()
    assert str(db.session.get(Product, product.id).piece_rate) == "0.1300"


def test_two_people_editing_one_client_the_later_save_is_refused(client, login_as, make, db):
    login_as("admin")
    owner = make.client(name="绿源纸袋包装厂")
    url = f"/clients/{owner.id}/edit"
    pages = [client.get(url).text, client.get(url).text]
    assert client.post(url, data={**form_values(pages[0]), "name": "绿源纸袋包装厂", "contact": "王主管"}).status_code == 303
    later = client.post(url, data={**form_values(pages[1]), "name": "绿源纸袋包装厂", "contact": "李主管"})
    assert later.status_code == 409 and STALE_ZH in later.text
    db.session.expire_all()
    assert db.session.get(Client, owner.id).contact == "王主管"


def test_catalog_pages_are_for_admins_only(client, login_as, make):
    login_as("supervisor")
    product = make.product()
    for url in ("/clients", "/clients/new", "/products", "/products/new", f"/products/{product.id}/edit"):
        assert client.get(url).status_code == 403, url
