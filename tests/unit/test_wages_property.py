"""Property (rule 1): for random rates with up to 4 decimals and random counts spread over many
returns, a statement's net is the sum of its lines — each line all pieces of one product at
one rate, multiplied exactly and rounded once — plus its adjustments; never rounded per return."""
import itertools
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.dates import month_bounds
from app.extensions import db
from app.models import Payslip, local_today
from app.services import catalog, chain, wages
from tests.wages_fixtures import close, issue_on, return_on

RATES = st.integers(min_value=1, max_value=500_000).map(lambda n: Decimal(n).scaleb(-4))  # 0.0001 … 50.0000
PRODUCT = st.tuples(RATES, st.lists(st.integers(0, 40), min_size=1, max_size=12), st.booleans(), RATES)
ADJUSTMENTS = st.lists(st.integers(-50_000, 50_000).filter(bool).map(lambda n: Decimal(n).scaleb(-2)), max_size=3)

_months_back = itertools.count(1)


def half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(products=st.lists(PRODUCT, min_size=1, max_size=3), adjustments=ADJUSTMENTS)
def test_net_is_the_sum_of_lines_rounded_once_plus_adjustments(app, make, products, adjustments):
    # Each example works in its own past month, so periods never collide.
    first = local_today().replace(day=1)
    for _ in range(next(_months_back)):
        first = (first - timedelta(days=1)).replace(day=1)
    start, end = month_bounds(first)
    station = make.station()
    worker = make.worker(station=station)
    expected_pieces: dict[tuple[int, Decimal], int] = defaultdict(int)
    for rate, counts, changes_rate, new_rate in products:
        product = make.product(piece_rate=str(rate))
        order = make.order(station=station, product=product, quantity=10_000)
        batch = issue_on(make, order, worker, sum(counts) * 2 + 2, start)
        for i, n in enumerate(counts):
            if n:
                return_on(batch, start + timedelta(days=i % 28), accepted=n)
                expected_pieces[(product.id, rate)] += n
        if changes_rate:  # a later batch at a new rate is its own line; the first keeps its rate
            catalog.update_product(product, piece_rate=new_rate)
            db.session.commit()
            later = issue_on(make, order, worker, sum(counts) + 1, start + timedelta(days=1))
            for n in counts:
                if n:
                    return_on(later, start + timedelta(days=2), accepted=n)
                    expected_pieces[(product.id, new_rate)] += n
    period = wages.create_pay_period(start, end)
    for amount in adjustments:
        wages.add_adjustment(worker=worker, period=period, amount=amount, reason="调整")
    db.session.commit()
    close(period)
    slip = db.session.scalar(select(Payslip).where(Payslip.pay_period_id == period.id))
    if not expected_pieces and not adjustments:
        assert slip is None
        return
    lines = {(line.product_id, line.piece_rate): (line.pieces, line.amount) for line in slip.lines if line.kind == "piece"}
    assert {k: v[0] for k, v in lines.items()} == dict(expected_pieces)
    for (_product_id, rate), (pieces, amount) in lines.items():
        assert amount == half_up(pieces * rate)  # exact product, rounded once
    expected_net = sum((half_up(p * r) for (_pid, r), p in expected_pieces.items()), Decimal("0.00")) + sum(adjustments, Decimal("0.00"))
    assert slip.net == expected_net == sum(line.amount for line in slip.lines)
    assert slip.gross == sum(amount for _p, amount in lines.values())
    assert chain.verify_payslips() == []
