"""backtest: replay a station's history through the plan (app/services/backtest.py) and print
the forecast error of pace (MAPE) and the share of planned batches back by their due date."""
from __future__ import annotations

from datetime import date

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("backtest")
    @click.option("--station", "station_id", type=int, help="one station (default: every station)")
    @click.option("--product", "product_id", type=int, help="one product")
    @click.option("--step", "step_id", type=int, help="one step")
    @click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="first issue day, YYYY-MM-DD")
    @click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="last issue day, YYYY-MM-DD")
    def backtest_command(station_id, product_id, step_id, start, end):
        """At each past issue day: what the plan would have said then, from the data before that
        day, against when the work really came back. Reads only."""
        from app.extensions import db
        from app.models import Station
        from app.services.backtest import backtest, summary

        stations = db.session.query(Station).order_by(Station.id)
        if station_id is not None:
            stations = stations.filter(Station.id == station_id)
        found = stations.all()
        if not found:
            raise click.UsageError(f"no station {station_id}")
        first: date | None = start.date() if start else None
        last: date | None = end.date() if end else None
        for station in found:
            result = backtest(station.id, product_id=product_id, step_id=step_id, start=first, end=last)
            click.echo(summary(f"station {station.id} {station.name}", result))
