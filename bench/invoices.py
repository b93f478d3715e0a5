"""Invoice PDF render times: a one-page invoice (target < 0.5 s) and a 300-line invoice of
about ten pages (target < 3 s), each against WeasyPrint rendering a plain HTML table of the
same size in the same run: as many rows of the same six cells, on the same page size and
margins, in the same font, size, cell padding and borders as the invoice (templates/pdf/base.html),
so the ratio is what the invoice costs against printing its lines as a plain table (the invoice's
own lines are rows of two texts, templates/pdf/_lines.html).
The sample enterprise has a logo (a 240 x 80 PNG), as a real one would.

    python -m bench.invoices [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from app import create_app
from app.extensions import db
from app.models import Client, Invoice, InvoiceLine
from app.money import line_amount
from app.pdf import render_pdf_html
from app.services import invoicing

# the invoice's page, font and cell rules (templates/pdf/base.html), nothing else
PLAIN_STYLE = ("@page { size: A4; margin: 16mm 14mm 18mm } "
               "html { font-family: 'Noto Sans CJK SC', sans-serif; font-size: 10.5pt } "
               "table { width: 100%; border-collapse: collapse } "
               "td { border: 0.5pt solid #999; padding: 1.5mm 2mm }")


def plain_table(rows: int) -> str:
    cells = "".join(
        f"<tr><td>{i}</td><td>D2026-{i:05d}</td><td>黑枸杞礼盒折叠粘合</td><td>{i * 7}</td><td>¥0.6000</td><td>¥{i * 4.2:.2f}</td></tr>"
        for i in range(1, rows + 1))
    return f"<html><head><style>{PLAIN_STYLE}</style></head><body><table>{cells}</table></body></html>"


def sample_logo() -> bytes:
    """A 240 x 80 PNG, the size of a small company logo."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 80), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, 76, 76), fill=(200, 30, 30))
    draw.ellipse((90, 10, 230, 70), outline=(40, 40, 40), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def sample_invoice(client: Client, lines: int) -> tuple[Invoice, dict[int, str]]:
    """A transient invoice (never stored) with ``lines`` lines."""
    invoice = Invoice(number="2026-000001", year=2026, seq=1, client_id=client.id, issue_date=date(2026, 11, 27),
                      status="issued", total=Decimal("0.00"), paid_amount=Decimal("0.00"))
    invoice.lines = [InvoiceLine(id=i, order_id=i, product_name="黑枸杞礼盒折叠粘合", quantity=i * 7,
                                 unit_price=Decimal("0.6000"), amount=line_amount(i * 7, Decimal("0.6000")))
                     for i in range(1, lines + 1)]
    invoice.total = sum((ln.amount for ln in invoice.lines), Decimal("0.00"))
    return invoice, {i: f"D2026-{i:05d}" for i in range(1, lines + 1)}


def timed(fn, repeat: int) -> tuple[float, float, float, bytes]:
    """Median wall time, median and least CPU time of this process. CPU time is steadier than
    wall time on a shared machine, but other load still inflates it; the least is the closest
    to the work itself."""
    walls, cpus, out = [], [], b""
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), min(cpus), out


def pages(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        info = subprocess.run(["pdfinfo", fh.name], capture_output=True, text=True).stdout
    return int(next((ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:")), "0"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jijian-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}", "SECRET_KEY": "bench"})
    with app.app_context(), app.test_request_context():
        db.create_all()
        client = Client(name="宁夏红枸杞礼盒有限公司", address="银川市兴庆区", tax_id="91640100XX")
        db.session.add(client)
        invoicing.update_enterprise_settings(name="东城幸福就业车间运营有限公司", address="东城区幸福路 8 号",
                                             tax_id="91110101MA00000000", bank_name="中国银行",
                                             bank_account="6216000012345678", logo=sample_logo())
        db.session.commit()
        render_pdf_html(plain_table(5))  # warm up fonts once, as a running server has
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians (and least CPU) of {args.repeat} runs")
        print(f"{'case':<20}{'inv wall':>9}{'inv cpu':>9}{'(least)':>9}{'tbl wall':>9}{'tbl cpu':>9}{'ratio':>7}"
              f"{'pages':>7}  target")
        for label, lines, target in (("one page (8 lines)", 8, 0.5), ("300 lines", 300, 3.0)):
            invoice, numbers = sample_invoice(client, lines)
            inv_wall, inv_cpu, inv_least, pdf = timed(
                lambda inv=invoice, nums=numbers: invoicing.render_invoice_pdf(inv, order_numbers=nums), args.repeat)
            tbl_wall, tbl_cpu, _, tbl_pdf = timed(lambda n=lines: render_pdf_html(plain_table(n)), args.repeat)
            verdict = "ok" if inv_cpu < target else "over"
            print(f"{label:<20}{inv_wall:>9.3f}{inv_cpu:>9.3f}{inv_least:>9.3f}{tbl_wall:>9.3f}{tbl_cpu:>9.3f}"
                  f"{inv_cpu / tbl_cpu:>7.2f}{pages(pdf):>3}/{pages(tbl_pdf):<3}  <{target} s cpu: {verdict}")
            db.session.rollback()


if __name__ == "__main__":
    main()
