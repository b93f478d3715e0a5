from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.forms import BaseForm


class StaffLoginForm(BaseForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Required.")), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Required.")), Length(max=200)])


class WorkerLoginForm(BaseForm):
    phone = StringField(_l("Mobile phone"), validators=[DataRequired(_l("Required.")), Length(max=20)])
    pin = PasswordField(_l("PIN"), validators=[DataRequired(_l("Required.")), Length(max=12)])


class LogoutForm(BaseForm):
    pass
