"""create-user: a staff account from the command line."""
import sys

import click
from flask import Flask

from app.extensions import db
from app.services import accounts
from app.services.errors import DomainError


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["admin", "supervisor"]), required=True)
    @click.option("--station", "station_id", type=int, default=None, help="Station id (supervisors).")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    @click.option("--name", "display_name", default=None)
    def create_user(username, role, station_id, password_stdin, display_name):
        """Create an admin or supervisor account."""
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = accounts.create_staff(username, password, role, station_id, display_name)
        except DomainError as exc:
            db.session.rollback()
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or str(exc.message)
            raise click.ClickException(detail) from None
        db.session.commit()
        click.echo(f"created {user.role} {user.username} (id {user.id})")
