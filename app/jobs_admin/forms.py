"""Forms for the scheduled-jobs pages."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from app.forms import BaseForm


class AutoCloseForm(BaseForm):
    enabled = BooleanField(_l("Close last month's pay period automatically"))
    day = IntegerField(
        _l("On this day of the month"),
        validators=[InputRequired(_l("Required.")), NumberRange(1, 28, _l("A day from 1 to 28."))],
    )


class RunJobForm(BaseForm):
    job = SelectField(_l("Job"), validators=[DataRequired(_l("Required."))])

    def __init__(self, *args, **kwargs):
        from app.jobs import JOBS

        super().__init__(*args, **kwargs)
        self.job.choices = [(name, str(spec.label)) for name, spec in JOBS.items()]


class DismissForm(BaseForm):
    """Only the CSRF token: dismissing a notice is a POST from the home page."""
