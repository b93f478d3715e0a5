"""Money: Decimal everywhere, scaled integers in the database, one rounding rule.

Amounts are stored in fen (scale 2); piece rates and unit prices in 1/10,000 yuan (scale 4).
A float is refused on the way in, so none can reach the database unnoticed.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an
from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")
RATE_PLACES = 4


class Money(TypeDecorator):
    """A Decimal stored as an integer count of 10**-scale yuan."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = 2):
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        value = Decimal(value)
        scaled = value.scaleb(self.scale)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-self.scale).quantize(Decimal(1).scaleb(-self.scale))

    @property
    def python_type(self):
        return Decimal


def Rate() -> Money:  # noqa: N802 - reads as a column type
    return Money(scale=RATE_PLACES)


def round_money(value: Decimal) -> Decimal:
    """The one rounding rule: half-up to the fen."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(pieces: int, rate: Decimal) -> Decimal:
    """A document line: all pieces at one rate, multiplied exactly, rounded once."""
    return round_money(Decimal(pieces) * Decimal(rate))


def line_amount_fen_sql(pieces: str, scaled_rate: str) -> str:
    """``line_amount`` as a SQL expression over integer columns, for aggregates that must not
    bring every line back to Python: pieces × the rate as stored (1/10,000 yuan) is the
    exact product, and integer division by 100 with half of it added to the magnitude first
    rounds it half-up (ties away from zero, as ``ROUND_HALF_UP``) to whole fen, negative lines
    too. Both operands must be integers (on PostgreSQL a SUM of bigint is numeric: cast it), so
    both databases divide as integers, truncating toward zero; a test holds it equal to ``line_amount``."""
    exact = f"({pieces}) * ({scaled_rate})"
    step = 10 ** (RATE_PLACES - 2)
    return f"(CASE WHEN {exact} < 0 THEN -(({step // 2} - {exact}) / {step}) ELSE ({exact} + {step // 2}) / {step} END)"


def parse_decimal(text, places: int) -> Decimal:
    """Parse user input into a Decimal with at most ``places`` decimals; ValueError otherwise."""
    if isinstance(text, float):
        raise ValueError("float")
    try:
        value = Decimal(str(text).strip().replace(",", "").replace("¥", ""))
    except InvalidOperation as exc:
        raise ValueError(str(text)) from exc
    if not value.is_finite() or int(value.as_tuple().exponent) < -places:  # finite: the exponent is a number
        raise ValueError(str(text))
    return value


def format_money(value, symbol: bool = True) -> str:
    """¥1,234.50 — amounts in the pages and documents."""
    if value is None:
        return ""
    value = round_money(Decimal(value))
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.2f}"
    return f"{sign}¥{text}" if symbol else f"{sign}{text}"


def format_rate(value) -> str:
    """A rate with 2 to 4 decimals: 0.0350 → ¥0.035, 1.5 → ¥1.50."""
    if value is None:
        return ""
    value = Decimal(value).quantize(Decimal("0.0001"))
    text = f"{value:.4f}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return f"¥{text}"


def amount_in_words(value) -> str:
    """Chinese capital numerals for totals: 1234.50 → 壹仟贰佰叁拾肆元伍角整."""
    value = round_money(Decimal(value))
    prefix = "负" if value < 0 else ""
    words = cn2an.an2cn(str(abs(value)), "rmb")
    if not words.endswith("分") and not words.endswith("整"):
        words += "整"
    return prefix + words


def api_amount(value) -> str | None:
    return None if value is None else f"{round_money(Decimal(value)):.2f}"


def api_rate(value) -> str | None:
    return None if value is None else f"{Decimal(value).quantize(Decimal('0.0001')):.4f}"
