from decimal import Decimal

import pytest
from sqlalchemy import text

from app.models import Product
from app.money import Money, amount_in_words, format_money, format_rate, line_amount, parse_decimal, round_money


def test_money_column_stores_scaled_integers_and_reads_back_decimal(app, db, make):
    product = make.product(piece_rate="0.0350", unit_price="1234.5678", material_cost="0")
    raw = db.session.execute(text("SELECT piece_rate, unit_price FROM products WHERE id = :id"), {"id": product.id}).one()
    assert raw == (350, 12345678)
    assert all(isinstance(v, int) for v in raw)
    db.session.expire_all()
    again = db.session.get(Product, product.id)
    assert again.piece_rate == Decimal("0.0350") and isinstance(again.piece_rate, Decimal)
    assert again.unit_price == Decimal("1234.5678")


def test_money_column_refuses_float_and_excess_places():
    col = Money(scale=2)
    with pytest.raises(TypeError):
        col.process_bind_param(0.1, None)
    with pytest.raises(ValueError):
        col.process_bind_param(Decimal("0.001"), None)
    assert col.process_bind_param(Decimal("-12.30"), None) == -1230


@pytest.mark.parametrize("value, expected", [
    ("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"), ("-0.005", "-0.01"), ("1234.5", "1234.50"),
])
def test_round_money_is_half_up_to_the_fen(value, expected):
    assert round_money(Decimal(value)) == Decimal(expected)


def test_line_amount_multiplies_exactly_then_rounds_once():
    # 3 pieces at 0.0350 = 0.105 → 0.11; rounding each piece first would give 0.12
    assert line_amount(3, Decimal("0.0350")) == Decimal("0.11")
    assert line_amount(1001, Decimal("0.0125")) == Decimal("12.51")


@pytest.mark.parametrize("value, words", [
    ("1005.07", "壹仟零伍元零柒分"), ("31.20", "叁拾壹元贰角整"), ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
    ("2000", "贰仟元整"),
])
def test_amount_in_words_writes_capital_numerals(value, words):
    assert amount_in_words(Decimal(value)) == words


def test_formatting_shows_yuan_with_thousands_and_rates_up_to_four_places():
    assert format_money(Decimal("1234.5")) == "¥1,234.50"
    assert format_money(Decimal("-3")) == "-¥3.00"
    assert format_rate(Decimal("0.035")) == "¥0.035"
    assert format_rate(Decimal("1.5")) == "¥1.50"


def test_parse_decimal_refuses_floats_and_too_many_places():
    assert parse_decimal("0.0350", 4) == Decimal("0.0350")
    assert parse_decimal("¥1,234.50", 2) == Decimal("1234.50")
    for bad in ("0.00001", "abc", "NaN", "inf"):
        with pytest.raises(ValueError):
            parse_decimal(bad, 4)
    with pytest.raises(ValueError):
        parse_decimal(0.5, 4)
