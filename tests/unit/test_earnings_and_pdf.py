import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest

from app.models import local_today
from app.pdf import FetchRefused, render_pdf_html, safe_url_fetcher
from app.services import production
from app.services.earnings import earnings_lines, totals_by_worker, worker_earnings


def test_earnings_round_once_per_line_not_per_return(app, db, make):
    product = make.product(piece_rate="0.0350")
    order = make.order(product=product)
    batch = make.batch(order=order, quantity=100)
    for _ in range(3):
        make.return_(batch=batch, accepted=1)  # 3 × 0.035 = 0.105 → 0.11 (per return would be 0.12)
    today = local_today()
    result = worker_earnings(batch.worker_id, today - timedelta(days=1), today)
    assert result["pieces"] == 3
    assert result["amount"] == Decimal("0.11")
    assert result["lines"][0]["piece_rate"] == Decimal("0.0350")


def test_rate_change_after_issue_leaves_the_batch_rate(app, db, make):
    from app.services import catalog

    product = make.product(piece_rate="1.0000")
    batch = make.batch(order=make.order(product=product), quantity=10)
    catalog.update_product(product, piece_rate=Decimal("2.0000"))
    db.session.commit()
    make.return_(batch=batch, accepted=10)
    today = local_today()
    lines = earnings_lines(today, today)
    assert [(line.piece_rate, line.amount) for line in lines] == [(Decimal("1.0000"), Decimal("10.00"))]


def test_corrections_count_in_earnings_and_zero_lines_disappear(app, db, make):
    batch = make.batch(quantity=10)
    original = make.return_(batch=batch, accepted=4)
    production.record_correction(original=original, accepted=-4, unused=4, reason="counted wrong")
    db.session.commit()
    today = local_today()
    assert totals_by_worker(earnings_lines(today, today)) == {}


def test_pdf_fetcher_refuses_files_and_remote_hosts(app):
    for url in ("file:///etc/passwd", "http://169.254.169.254/", "https://example.com/x.png"):
        with pytest.raises(FetchRefused):
            safe_url_fetcher(url)


def test_pdf_has_chinese_text_and_an_embedded_cjk_font(app, tmp_path):
    html = '<html style="font-family: \'Noto Sans CJK SC\'"><body><p>东城幸福就业车间 结算单</p></body></html>'
    path = tmp_path / "x.pdf"
    path.write_bytes(render_pdf_html(html))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "东城幸福就业车间" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts or "WenQuanYi" in fonts
