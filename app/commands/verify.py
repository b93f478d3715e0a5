"""verify: recompute the hash chains of closed pay statements and of invoices (with their
stored PDFs) and name every row changed behind the app's back. Exits 1 on any problem."""
from __future__ import annotations

import click
from flask import Flask

from app.services import chain


def _report(name: str, problems: list[chain.ChainProblem]) -> None:
    for p in problems:
        click.echo(str(p), err=True)
    click.echo(f"{name}: {'FAILED, ' + str(len(problems)) + ' problem(s)' if problems else 'chain intact'}")


def register(app: Flask) -> None:
    @app.cli.command("verify")
    def verify_command():
        """Check the payslip and invoice hash chains; exit non-zero if a row was changed."""
        payslips, invoices = chain.verify_payslips(), chain.verify_invoices()
        _report("payslips", payslips)
        _report("invoices", invoices)
        if payslips or invoices:
            raise SystemExit(1)

    @app.cli.command("verify-invoices")
    def verify_invoices_command():
        """Check the invoice hash chain and stored PDFs only; exit non-zero if one was changed."""
        problems = chain.verify_invoices()
        _report("invoices", problems)
        if problems:
            raise SystemExit(1)
