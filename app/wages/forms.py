"""Pay-period and adjustment forms — used by the pages and the API alike."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import TextInput

from app.forms import BaseForm, IdempotentForm, MoneyField

REQUIRED = _l("Required.")


class AmountField(MoneyField):
    """A money amount typed as text (MoneyField itself carries no widget)."""

    widget = TextInput()


class PayPeriodForm(IdempotentForm):
    """A period; with no dates, the calendar month of today; with a start only, its month."""

    start = DateField(_l("First day"), validators=[Optional()])
    end = DateField(_l("Last day"), validators=[Optional()])


class AdjustmentForm(IdempotentForm):
    worker_id = SelectField(_l("Worker"), coerce=int, validate_choice=False, validators=[DataRequired(REQUIRED)])
    pay_period_id = IntegerField(_l("Pay period"), validators=[DataRequired(REQUIRED)])
    amount = AmountField(_l("Amount (a deduction is negative)"), places=2, validators=[InputRequired(REQUIRED)])
    reason = StringField(_l("Reason"), validators=[DataRequired(REQUIRED), Length(max=200)])


class ClosePeriodForm(IdempotentForm):
    """Closing freezes every statement: the page asks for confirmation first, and a period
    that has not ended yet needs ``early`` ticked as well."""

    early = BooleanField(_l("Yes, close it before its last day"))


class ReopenPeriodForm(IdempotentForm):
    reason = StringField(_l("Why it is reopened"), validators=[DataRequired(REQUIRED), Length(max=200)])


class EarningsRangeForm(BaseForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])


