"""Registering a worker: the same form serves the page and the API."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.forms import IdempotentForm

GROUP_CHOICES = [
    ("disabled", _l("Person with disability")),
    ("relocated", _l("Resettled family")),
    ("laid_off", _l("Laid off")),
    ("flexible", _l("Flexibly employed")),
]



class WorkerForm(IdempotentForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Required.")), Length(max=50)])
    phone = StringField(
        _l("Mobile phone"),
        validators=[DataRequired(_l("Required.")), Regexp(r"^1\d{10}$", message=_l("11 digits, starting with 1."))],
    )
    station_id = SelectField(_l("Station"), coerce=int, validate_choice=False,
                             validators=[DataRequired(_l("Required."))])
    pin = PasswordField(
        _l("PIN"), validators=[DataRequired(_l("Required.")), Regexp(r"^\d{6}$", message=_l("The PIN is 6 digits."))]
    )
    birth_year = IntegerField(_l("Year of birth"), validators=[Optional(), NumberRange(1930, 2015, message=_l("A year between 1930 and 2015."))])
    gender = SelectField(_l("Gender"), choices=[("", "—"), ("F", _l("Female")), ("M", _l("Male"))], default="",
                         validators=[Optional()])
    groups = SelectMultipleField(_l("Key groups"), choices=GROUP_CHOICES, validators=[Optional()])
    id_number = StringField(_l("ID number"), validators=[Optional(), Regexp(r"^\d{17}[\dXx]$", message=_l("18 characters."))])
    bank_account = StringField(_l("Bank account"), validators=[Optional(), Regexp(r"^\d{8,30}$", message=_l("Digits only."))])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=60)])


class WorkerEditForm(IdempotentForm):
    """Editing a worker: what the API's PATCH takes, and (admins) the ID and bank details."""

    name = WorkerForm.name
    phone = WorkerForm.phone
    birth_year = WorkerForm.birth_year
    gender = WorkerForm.gender
    groups = WorkerForm.groups
    # Never filled in on the page (masked there like everywhere): empty keeps the stored number.
    id_number = WorkerForm.id_number
    bank_account = WorkerForm.bank_account
    bank_name = WorkerForm.bank_name
    clear_numbers = BooleanField(_l("Remove the ID and bank numbers"))


class PinResetForm(IdempotentForm):
    """A button: a new PIN for the worker, printed on a slip."""
