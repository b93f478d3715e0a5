"""Insurance register forms (admin pages)."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.validators import ValidationError as WTFValidationError
from wtforms.widgets import TextInput

from app.forms import IdempotentForm, MoneyField, non_negative


class PolicyForm(IdempotentForm):
    insurer = StringField(_l("Insurer"), validators=[DataRequired(_l("Required.")), Length(max=100)])
    policy_number = StringField(_l("Policy number"), validators=[DataRequired(_l("Required.")), Length(max=50)])
    start = DateField(_l("Cover starts"), validators=[DataRequired(_l("Enter a date as YYYY-MM-DD."))])
    end = DateField(_l("Cover ends"), validators=[DataRequired(_l("Enter a date as YYYY-MM-DD."))])
    premium_per_person_month = MoneyField(_l("Premium per person per month (CNY)"), places=2, widget=TextInput(),
                                          validators=[InputRequired(_l("Required.")), non_negative])

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise WTFValidationError(_l("The end must not be before the start."))


class CoverForm(IdempotentForm):
    """One step: put every active worker without cover in a month on a policy."""

    policy_id = SelectField(_l("Policy"), coerce=int, validate_choice=False,
                            validators=[DataRequired(_l("Choose a policy in force in that month."))])
    month = HiddenField()
    station_id = HiddenField()
