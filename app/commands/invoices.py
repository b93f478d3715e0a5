"""verify-invoices: check the invoices' hash chain and stored PDFs (rule 9)."""
import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("verify-invoices")
    def verify_invoices():
        """Report any invoice or stored PDF changed behind the app's back; exit 1 if any."""
        from app.services.invoicing import verify_chain

        problems = verify_chain()
        for problem in problems:
            click.echo(problem)
        if problems:
            raise SystemExit(1)
        click.echo("invoices: hash chain intact")
