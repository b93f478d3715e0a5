"""The invariant checker (app/services/ledger.py, ``flask check-ledger``): silent on a ledger
built through the services, and naming the rule and the row when one is corrupted behind the
app's back. Each corruption is made in the test's own transaction and rolled back, so one
ledger serves them all, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services.ledger import check_ledger
from tests.ledger_fixtures import build_ledger_world


@pytest.fixture
def world(app, make):
    return build_ledger_world(make)


def _dialect():
    return db.session.get_bind().dialect.name


def _breaches_after(*statements, **params):
    for stmt in statements:
        db.session.execute(text(stmt), params)
    try:
        return check_ledger()
    finally:
        db.session.rollback()


def _named(breaches, rule, entity=None, entity_id=None):
    return [b for b in breaches if b.rule == rule and (entity is None or b.entity == entity)
            and (entity_id is None or b.entity_id == entity_id)]


CASES = []


def case(fn):
    """One corruption and what the checker must say about it (all run on one ledger)."""
    CASES.append(fn)
    return fn


def test_a_ledger_built_through_the_services_breaks_no_rule_and_every_corruption_is_named(app, world):
    assert check_ledger() == []
    result = app.test_cli_runner().invoke(args=["check-ledger"])
    assert result.exit_code == 0, result.output
    assert "every invariant holds" in result.output
    failed = []
    for corruption in CASES:
        try:
            corruption(world)
        except AssertionError as exc:
            failed.append(f"{corruption.__name__}: {exc}")
        finally:
            db.session.rollback()
        assert check_ledger() == [], f"{corruption.__name__} was not rolled back"
    assert not failed, "\n".join(failed)


def test_check_ledger_command_names_the_breaking_row_and_exits_non_zero(app, world):
    db.session.execute(text("UPDATE batches SET accepted = accepted - 1 WHERE id = :id"), {"id": world["batch"]})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["check-ledger"])
    assert result.exit_code == 1
    assert f"[batch_counters] batch {world['batch']}" in result.output  # stderr is mixed in
    assert "FAILED, 1 breach(es): batch_counters 1" in result.output


@case
def a_batch_counter_apart_from_its_returns_is_named(world):
    found = _breaches_after("UPDATE batches SET accepted = accepted - 3 WHERE id = :id", id=world["batch"])
    assert _named(found, "batch_counters", "batch", world["batch"])
    assert {b.rule for b in found} == {"batch_counters"}


@case
def an_order_counter_apart_from_its_returns_and_batches_is_named(world):
    found = _breaches_after("UPDATE orders SET committed = committed + 1, rejected = rejected + 1 WHERE id = :id",
                            id=world["order"])
    assert _named(found, "order_counters", "order", world["order"])


@case
def a_daily_tally_apart_from_the_returns_is_named(world):
    found = _breaches_after("UPDATE order_day_tallies SET accepted = accepted + 4 WHERE order_id = :id",
                            id=world["order"])
    assert _named(found, "day_tallies", "order", world["order"])


@case
def a_monthly_rollup_apart_from_the_returns_is_named(world):
    bo = world["workers"][1]
    found = _breaches_after("UPDATE return_months SET pieces = pieces + 3 WHERE worker_id = :id", id=bo)
    assert _named(found, "return_months", "worker", bo)
    assert {b.rule for b in found} == {"return_months"}
    found = _breaches_after("DELETE FROM return_months WHERE worker_id = :id", id=bo)
    assert _named(found, "return_months", "worker", bo) and "the rollup holds 0 pieces" in found[0].detail


@case
def pieces_invoiced_twice_or_freed_without_a_credit_note_are_named(world):
    found = _breaches_after("UPDATE orders SET invoiced = invoiced - 1 WHERE id = :id", id=world["order"])
    assert _named(found, "invoiced_once", "order", world["order"])


@case
def a_gap_in_the_invoice_numbers_is_named(world):
    found = _breaches_after("UPDATE number_counters SET last = last + 1 WHERE series = 'invoice'")
    assert _named(found, "invoice_numbers")
    found = _breaches_after("UPDATE invoices SET seq = 7, number = :n WHERE id = :id",
                            n=f"{world['year']}-000007", id=world["invoice"])
    assert any("missing" in b.detail for b in _named(found, "invoice_numbers"))
    assert _named(found, "invoice_chain")


@case
def a_gap_in_the_credit_note_numbers_is_named(world):
    found = _breaches_after("UPDATE number_counters SET last = last + 2 WHERE series = 'credit_note'")
    assert _named(found, "credit_note_numbers")


@case
def a_void_invoice_without_its_credit_note_is_named(world):
    found = _breaches_after("UPDATE invoices SET status = 'issued' WHERE id = :id", id=world["void_invoice"])
    assert _named(found, "invoice_complete", "invoice", world["void_invoice"])
    assert _named(found, "invoiced_once", "order", world["order"])


@case
def a_payslip_changed_behind_the_apps_back_breaks_the_chain_and_the_closed_period(world):
    slip_id = db.session.execute(text("SELECT id FROM payslips WHERE pay_period_id = :p AND worker_id = :w"),
                                 {"p": world["closed_period"], "w": world["workers"][0]}).scalar_one()
    found = _breaches_after("UPDATE payslips SET net = net + 10000, gross = gross + 10000 WHERE id = :id", id=slip_id)
    assert _named(found, "payslip_chain", "payslip", slip_id)
    assert _named(found, "closed_period", "payslip", slip_id)


@case
def an_invoice_total_changed_behind_the_apps_back_breaks_the_invoice_chain(world):
    found = _breaches_after("UPDATE invoices SET total = total + 100 WHERE id = :id", id=world["invoice"])
    assert _named(found, "invoice_chain")


@case
def a_return_slipped_into_a_closed_period_is_named_with_its_missing_audit_event(world):
    batch = world["last_month_batch"]
    found = _breaches_after(
        "INSERT INTO returns (batch_id, worker_id, station_id, order_id, product_id, piece_rate, accepted, rejected,"
        " unused, work_date, recorded_at) SELECT id, worker_id, station_id, order_id, product_id, piece_rate, 5, 0, 0,"
        " issued_on, issued_at FROM batches WHERE id = :id",
        "UPDATE batches SET accepted = accepted + 5 WHERE id = :id",
        "UPDATE orders SET accepted = accepted + 5 WHERE id = (SELECT order_id FROM batches WHERE id = :id)",
        "UPDATE order_day_tallies SET accepted = accepted + 5 WHERE order_id = (SELECT order_id FROM batches"
        " WHERE id = :id) AND work_date = (SELECT issued_on FROM batches WHERE id = :id)",
        id=batch)
    assert _named(found, "closed_period", "payslip"), found
    assert _named(found, "audit_trail", "return")
    assert not _named(found, "batch_counters") and not _named(found, "order_counters")


@case
def half_a_pay_period_close_is_named(world):
    found = _breaches_after("UPDATE pay_periods SET status = 'open' WHERE id = :id", id=world["closed_period"])
    assert _named(found, "closed_period", "pay_period", world["closed_period"])


@case
def a_closed_batch_with_a_wrong_shortfall_is_named(world):
    found = _breaches_after("UPDATE batches SET shortfall = 0 WHERE id = :id", id=world["closed_batch"])
    assert _named(found, "batch_shortfall", "batch", world["closed_batch"])


@case
def an_over_returned_batch_is_named_even_past_the_databases_own_check(world):
    if _dialect() == "sqlite":
        statements = ["PRAGMA ignore_check_constraints = ON"]
    else:
        statements = ["ALTER TABLE batches DROP CONSTRAINT ck_batches_conservation"]
    statements.append("UPDATE batches SET unused = quantity WHERE id = :id")
    if _dialect() == "postgresql":
        statements.append("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred triggers fire before the ALTER
        statements.append("ALTER TABLE batches ADD CONSTRAINT ck_batches_conservation "
                          "CHECK (accepted + rejected + unused <= quantity) NOT VALID")
    try:
        found = _breaches_after(*statements, id=world["batch"])
    finally:
        if _dialect() == "sqlite":
            db.session.execute(text("PRAGMA ignore_check_constraints = OFF"))
    assert _named(found, "over_return", "batch", world["batch"])
    assert _named(found, "constraints", "batches", world["batch"])
    if _dialect() == "postgresql":
        assert _named(found, "integrity", "batches")


@case
def a_row_pointing_at_nothing_is_named_even_with_foreign_keys_off(world):
    first = "PRAGMA defer_foreign_keys = ON" if _dialect() == "sqlite" else "SET LOCAL session_replication_role = replica"
    found = _breaches_after(first, "UPDATE invoice_lines SET order_id = 999999 WHERE invoice_id = :id",
                            id=world["invoice"])
    assert any("points at no orders row" in b.detail for b in _named(found, "constraints", "invoice_lines"))


def test_sqlite_integrity_check_failures_are_named(app, make):
    make.batch()
    if _dialect() != "sqlite":
        pytest.skip("SQLite's own integrity_check")
    # An index whose stored entries no longer match its definition: what a torn page looks like.
    db.session.execute(text("PRAGMA writable_schema = ON"))
    db.session.execute(text("UPDATE sqlite_master SET sql = 'CREATE INDEX ix_batches_issued_on ON batches "
                            "(due_date, station_id)' WHERE name = 'ix_batches_issued_on'"))
    db.session.commit()
    db.session.execute(text("PRAGMA writable_schema = OFF"))
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
    found = check_ledger()
    assert _named(found, "integrity", "database"), found
