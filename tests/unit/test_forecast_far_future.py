"""Found by the soak: a huge order at a trickle of pieces forecast past the calendar's end and
the order board answered 500."""
from datetime import date
from types import SimpleNamespace

from app.services.production import forecast_from_pace, is_at_risk


def test_a_forecast_beyond_the_last_date_is_the_last_date_and_the_order_is_at_risk():
    today = date(2026, 12, 31)
    order = SimpleNamespace(quantity=10_000_000_000, accepted=0, status="open", due_date=date(2027, 1, 31))
    forecast = forecast_from_pace(order, recent=1, today=today)
    assert forecast == date.max
    assert is_at_risk(order, forecast, today)
