"""verify: recompute the hash chains of closed payslips (and of invoices, when that feature
is installed) and name every row changed behind the app's back. Exits 1 on any problem."""
from __future__ import annotations

import importlib

import click
from flask import Flask

from app.services import wages


def _invoice_verifier():
    """``app.services.invoicing.verify_chain`` if the invoices feature provides one."""
    try:
        module = importlib.import_module("app.services.invoicing")
    except ImportError:
        return None
    return getattr(module, "verify_chain", None)


def _describe(problem) -> str:
    if isinstance(problem, str):
        return problem
    fields = getattr(problem, "__dict__", None) or getattr(problem, "_asdict", lambda: None)()
    if fields:
        return ", ".join(f"{k}={v}" for k, v in fields.items())
    return str(problem)


def register(app: Flask) -> None:
    @app.cli.command("verify")
    def verify_command():
        """Check the payslip (and invoice) hash chains; exit non-zero if a row was changed."""
        failed = False
        problems = wages.verify_chain()
        for p in problems:
            click.echo(f"payslip {p.payslip_id} (seq {p.seq}, worker {p.worker_id}, pay period {p.pay_period_id}): "
                       f"{p.reason}", err=True)
        click.echo(f"payslips: {'FAILED, ' + str(len(problems)) + ' problem(s)' if problems else 'chain intact'}")
        failed |= bool(problems)
        verify_invoices = _invoice_verifier()
        if verify_invoices is not None:
            invoice_problems = list(verify_invoices() or [])
            for p in invoice_problems:
                click.echo(f"invoice: {_describe(p)}", err=True)
            click.echo(f"invoices: {'FAILED, ' + str(len(invoice_problems)) + ' problem(s)' if invoice_problems else 'chain intact'}")
            failed |= bool(invoice_problems)
        if failed:
            raise SystemExit(1)
