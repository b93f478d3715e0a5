"""The invoice PDF read back (pdftotext, pdffonts, pdfdetach), and its safety against
markup in client and product fields."""
import re
import subprocess
import time
from decimal import Decimal

import pytest

import app.pdf as pdf_module
from app.extensions import db
from app.pdf import FetchRefused, safe_url_fetcher
from app.services import invoicing
from tests.invoices_fixtures import accepted_pieces


def _pdf_tool(tool, path, *args):
    return subprocess.run([tool, *args, str(path)] + (["-"] if tool == "pdftotext" else []),
                          capture_output=True, text=True, check=True).stdout


def _flat(text):
    return re.sub(r"\s+", "", text)


@pytest.fixture
def enterprise(app):
    invoicing.update_enterprise_settings(name="东城幸福就业车间运营有限公司", address="东城区幸福路 8 号",
                                         tax_id="91110101MA00000000", bank_name="中国银行东城支行",
                                         bank_account="6216 0000 1234 5678", payment_note="")
    db.session.commit()


def test_invoice_pdf_shows_chinese_client_number_totals_and_capitals_in_one_embedded_cjk_font(app, make, enterprise, tmp_path):
    client = make.client(name="宁夏红枸杞礼盒有限公司", address="银川市兴庆区", tax_id="91640100XX")
    client, _orders = accepted_pieces(make, client=client, orders=((2000, "0.6000", 1234), (500, "1.2500", 100)))
    invoice = invoicing.issue_invoice(client)
    db.session.commit()
    assert invoice.total == Decimal("865.40")
    path = tmp_path / "invoice.pdf"
    path.write_bytes(invoicing.stored_pdf(invoice))
    text = _pdf_tool("pdftotext", path)
    flat = _flat(text)
    for expected in ("宁夏红枸杞礼盒有限公司", invoice.number, "¥740.40", "¥125.00", "¥865.40", "捌佰陆拾伍元肆角整",
                     "东城幸福就业车间运营有限公司", "结算单", "付款条件", "6216000012345678"):
        assert _flat(expected) in flat, expected
    fonts = _pdf_tool("pdffonts", path).splitlines()[2:]
    cjk = [line for line in fonts if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk)  # embedded, so no tofu boxes
    assert len(cjk) == 1  # one weight: a bold face would be a second CJK collection to subset (bench/invoices.py)


def test_invoice_pdf_in_english_on_request(app, make, tmp_path):
    client, _ = accepted_pieces(make)
    invoice = invoicing.issue_invoice(client, language="en")
    db.session.commit()
    path = tmp_path / "en.pdf"
    path.write_bytes(invoicing.stored_pdf(invoice))
    text = _pdf_tool("pdftotext", path)
    flat = _flat(text)
    assert "Settlementinvoice" in flat and "Paymentterms" in flat and "贰拾肆元整" in flat and "结算单" not in flat



def test_figure_columns_right_align_and_line_up_decimal_points():
    rows = [("数量", "单价", "金额"), ("7", "¥0.035", "¥4.20"), ("12,345", "¥1.50", "-¥123,456.00"), ("12,352", "", "¥9.99")]
    assert invoicing.figure_columns(rows, gap=2) == [
        "  数量    单价          金额",
        "     7  ¥0.035         ¥4.20",
        "12,345  ¥1.50   -¥123,456.00",
        "12,352                 ¥9.99",
    ]


def test_invoice_pdf_figures_share_right_edges(app, make, enterprise, tmp_path):
    """Quantities, unit prices and amounts of every line (and the total) end at one x each."""
    client, _orders = accepted_pieces(make, orders=((2000, "0.6000", 1234), (500, "1.2500", 100), (20, "0.0350", 9)))
    invoice = invoicing.issue_invoice(client)
    db.session.commit()
    path = tmp_path / "invoice.pdf"
    path.write_bytes(invoicing.stored_pdf(invoice))
    doc = invoicing.invoice_document(invoice)
    kinds = {"qty": {ln["quantity"] for ln in doc["lines"]} | {doc["pieces"]},
             "price": {ln["unit_price"] for ln in doc["lines"]},
             "amount": {ln["amount"] for ln in doc["lines"]} | {doc["total"]}}
    assert kinds["price"] == {"¥0.60", "¥1.25", "¥0.035"}  # two and three decimals: points line up, ends may not
    kinds["price"] = {"¥0.60", "¥1.25"}
    words = re.findall(r'xMax="([\d.]+)"[^>]*>([^<]+)</word>', _pdf_tool("pdftotext", path, "-bbox"))
    right = {}
    for x, word in words:
        for kind, texts in kinds.items():
            if word in texts:
                right.setdefault(kind, set()).add(round(float(x), 1))
    assert set(right) == {"qty", "price", "amount"}, words
    assert all(len(edges) == 1 for edges in right.values()), right

HOSTILE = {
    "client": '<img src="http://169.254.169.254/">',
    "product": '<link rel="attachment" href="file:///etc/passwd">',
    "address": "<style>@import url(file:///dev/urandom);</style>",
    "contact": "@import url(file:///dev/urandom)",
}


def test_markup_in_client_and_product_fields_prints_as_text_fetches_and_embeds_nothing(app, make, tmp_path, monkeypatch):
    asked = []
    real = pdf_module.safe_fetcher

    def recording_fetcher():
        fetcher = real()
        fetch = fetcher.fetch

        def recording_fetch(url, headers=None):
            asked.append(url)
            return fetch(url, headers)

        fetcher.fetch = recording_fetch
        return fetcher

    monkeypatch.setattr(pdf_module, "safe_fetcher", recording_fetcher)
    invoicing.update_enterprise_settings(name="车间", logo=_tiny_png())  # a data: URI the fetcher must see
    client = make.client(name=HOSTILE["client"], address=HOSTILE["address"], contact=HOSTILE["contact"])
    client, _ = accepted_pieces(make, client=client, product_name=HOSTILE["product"])
    started = time.perf_counter()
    invoice = invoicing.issue_invoice(client)
    elapsed = time.perf_counter() - started
    db.session.commit()
    path = tmp_path / "hostile.pdf"
    path.write_bytes(invoicing.stored_pdf(invoice))
    flat = _flat(_pdf_tool("pdftotext", path))
    for value in (HOSTILE["client"], HOSTILE["product"], HOSTILE["address"]):
        assert _flat(value) in flat, value
    assert any(u.startswith("data:image/png") for u in asked)  # the wrapper does see what is fetched
    assert not [u for u in asked if re.search(r"169\.254|file:|passwd|urandom|https?:", u)]
    assert "0 embedded files" in _pdf_tool("pdfdetach", path, "-list")
    assert b"/EmbeddedFile" not in path.read_bytes()
    assert elapsed < 10  # reading /dev/urandom would never finish; the real figure is in bench/


def test_fetcher_serves_static_files_and_data_uris_only(app):
    fetched = safe_url_fetcher("data:text/plain;base64,aGk=")
    assert fetched.read() == b"hi"
    css = safe_url_fetcher("jijian-static:/css/app.css")
    assert css.read() and css.content_type == "text/css"
    for url in ("jijian-static:/../../../etc/passwd", "jijian-static:/%2e%2e/%2e%2e/config.py",
                "file:///dev/urandom", "http://169.254.169.254/latest/meta-data/", "ftp://example.com/x"):
        with pytest.raises(FetchRefused):
            safe_url_fetcher(url)


def test_logo_must_be_a_real_png_or_jpeg_and_prints_as_a_data_uri(app, make, tmp_path):
    from app.services.errors import ValidationError

    with pytest.raises(ValidationError):
        invoicing.update_enterprise_settings(logo=b"<svg xmlns='http://www.w3.org/2000/svg'><image href='file:///etc/passwd'/></svg>")
    db.session.rollback()
    png = _tiny_png()
    invoicing.update_enterprise_settings(logo=png, name="车间")
    db.session.commit()
    doc_logo = invoicing.logo_data_uri(invoicing.enterprise_settings()["logo_file_id"])
    assert doc_logo.startswith("data:image/png;base64,")
    client, _ = accepted_pieces(make)
    invoice = invoicing.issue_invoice(client)
    db.session.commit()
    path = tmp_path / "logo.pdf"
    path.write_bytes(invoicing.stored_pdf(invoice))
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) >= 3  # header, rule, one image


def _tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xcc\x22\x22" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_credit_note_pdf_names_the_voided_invoice_reason_and_negative_total(app, make, tmp_path):
    client = make.client(name="宁夏红枸杞礼盒有限公司")
    client, _ = accepted_pieces(make, client=client)
    invoice = invoicing.issue_invoice(client)
    note = invoicing.void_invoice(invoice, "单价录入有误")
    db.session.commit()
    path = tmp_path / "cn.pdf"
    path.write_bytes(invoicing.stored_credit_note_pdf(note))
    flat = _flat(_pdf_tool("pdftotext", path))
    for expected in ("红字冲销单", note.number, invoice.number, "宁夏红枸杞礼盒有限公司", "单价录入有误", "-¥24.00", "负贰拾肆元整"):
        assert expected in flat, expected
