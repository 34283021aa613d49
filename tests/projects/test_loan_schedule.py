"""The rounding rule of a loan's schedule, for any amount, currency and number of instalments:
the schedule sums exactly to the amount, has one row per instalment, all equal except the last,
which exceeds the others by less than one minor unit per instalment."""

import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tadamun.core.money import currency_decimals
from tadamun.projects.services import add_months, loan_schedule

CURRENCIES = ["TND", "EUR", "MAD"]


@st.composite
def loans(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    decimals = currency_decimals(currency)
    minor_units = draw(st.integers(min_value=1, max_value=10**11 * 10**decimals - 1))
    amount = Decimal(minor_units).scaleb(-decimals)
    instalments = draw(st.integers(min_value=1, max_value=240))
    first_due = draw(
        st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2090, 1, 1))
    )
    return amount, currency, instalments, first_due


@settings(max_examples=300, deadline=None)
@given(loans())
def test_schedule_sums_exactly_and_only_the_last_instalment_differs(loan):
    amount, currency, instalments, first_due = loan
    unit = Decimal(1).scaleb(-currency_decimals(currency))
    rows = loan_schedule(amount, currency, instalments, first_due)

    assert len(rows) == instalments
    assert [number for number, _due, _value in rows] == list(range(1, instalments + 1))
    values = [value for _number, _due, value in rows]
    assert sum(values) == amount
    for value in values:
        assert value == value.quantize(unit)  # never more decimals than the currency has
    *equal, last = values
    assert len(set(equal)) <= 1
    each = equal[0] if equal else last
    assert each >= 0
    assert Decimal(0) <= last - each < instalments * unit
    # Monthly, from the first due date.
    assert [due for _number, due, _value in rows] == [
        add_months(first_due, n) for n in range(instalments)
    ]
