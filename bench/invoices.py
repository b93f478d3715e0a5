"""Invoice PDF render times: a one-page invoice (target < 0.5 s) and a 300-line invoice of
about ten pages (target < 3 s), each against WeasyPrint rendering a plain HTML table of the
same size with the same font in the same run.

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

FONT = "font-family: 'Noto Sans CJK SC', sans-serif; font-size: 10.5pt"


def plain_table(rows: int) -> str:
    cells = "".join(
        f"<tr><td>{i}</td><td>D2026-{i:05d}</td><td>黑枸杞礼盒折叠粘合</td><td>{i * 7}</td><td>¥0.6000</td><td>¥{i * 4.2:.2f}</td></tr>"
        for i in range(1, rows + 1))
    return (f'<html style="{FONT}"><body><table style="width:100%;border-collapse:collapse">'
            f"{cells}</table></body></html>")


def sample_invoice(client: Client, lines: int) -> tuple[Invoice, dict[int, str]]:
    """A transient invoice (never stored) with ``lines`` lines."""
    invoice = Invoice(number="2026-000001", year=2026, seq=1, client_id=client.id, issue_date=date(2026, 11, 27),
                      status="issued", total=Decimal("0.00"), paid_amount=Decimal("0.00"))
    invoice.lines = [InvoiceLine(id=i, order_id=i, product_name="黑枸杞礼盒折叠粘合", quantity=i * 7,
                                 unit_price=Decimal("0.6000"), amount=line_amount(i * 7, Decimal("0.6000")))
                     for i in range(1, lines + 1)]
    invoice.total = sum((ln.amount for ln in invoice.lines), Decimal("0.00"))
    return invoice, {i: f"D2026-{i:05d}" for i in range(1, lines + 1)}


def timed(fn, repeat: int) -> tuple[float, float, bytes]:
    """Median wall time and median CPU time of this process (steadier on a shared machine)."""
    walls, cpus, out = [], [], b""
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), out


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
                                             bank_account="6216000012345678")
        db.session.commit()
        render_pdf_html(plain_table(5))  # warm up fonts once, as a running server has
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians of {args.repeat} runs")
        print(f"{'case':<20}{'inv wall':>9}{'inv cpu':>9}{'tbl wall':>9}{'tbl cpu':>9}{'ratio':>7}{'pages':>6}  target")
        for label, lines, target in (("one page (8 lines)", 8, 0.5), ("300 lines", 300, 3.0)):
            invoice, numbers = sample_invoice(client, lines)
            inv_wall, inv_cpu, pdf = timed(
                lambda inv=invoice, nums=numbers: invoicing.render_invoice_pdf(inv, order_numbers=nums), args.repeat)
            tbl_wall, tbl_cpu, _ = timed(lambda n=lines: render_pdf_html(plain_table(n)), args.repeat)
            verdict = "ok" if inv_cpu < target else "over"
            print(f"{label:<20}{inv_wall:>9.3f}{inv_cpu:>9.3f}{tbl_wall:>9.3f}{tbl_cpu:>9.3f}"
                  f"{inv_cpu / tbl_cpu:>7.2f}{pages(pdf):>6}  <{target} s cpu: {verdict}")
            db.session.rollback()


if __name__ == "__main__":
    main()
