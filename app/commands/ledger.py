"""check-ledger: every invariant of the ledger (app/services/ledger.py) over the whole
database; names every row that breaks one and exits 1."""
from __future__ import annotations

from collections import Counter

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("check-ledger")
    def check_ledger_command():
        """Check counters, tallies, invoicing, number series, hash chains, closed periods, the
        audit trail and the database's constraints; exit non-zero if anything breaks."""
        from app.services.ledger import check_ledger

        breaches = check_ledger()
        for breach in breaches:
            click.echo(str(breach), err=True)
        if breaches:
            by_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(Counter(b.rule for b in breaches).items()))
            click.echo(f"ledger: FAILED, {len(breaches)} breach(es): {by_rule}")
            raise SystemExit(1)
        click.echo("ledger: every invariant holds")
