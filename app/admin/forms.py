"""Stations and staff accounts: the same forms serve the pages and the API."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.forms import BaseForm, IdempotentForm


class StationForm(IdempotentForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Required.")), Length(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    shortfall_policy = SelectField(
        _l("Lost materials"),
        choices=[("none", _l("No charge")), ("material_cost", _l("Deduct material cost"))],
        default="none",
    )


class StaffForm(IdempotentForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Required.")), Length(min=3, max=64),
                                                       Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("3–64 letters, digits, dot, dash or underscore."))])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[("supervisor", _l("Station supervisor")), ("admin", _l("Enterprise admin"))])
    station_id = SelectField(_l("Station"), coerce=int, validate_choice=False, validators=[Optional()])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Required.")), Length(min=8, max=200, message=_l("At least 8 characters."))])


class ToggleForm(BaseForm):
    pass
