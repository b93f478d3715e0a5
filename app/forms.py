"""Form base classes shared by every feature."""
from __future__ import annotations

import uuid
from decimal import Decimal
from functools import cache

from babel.support import NullTranslations, Translations
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField
from wtforms.i18n import messages_path
from wtforms.validators import ValidationError as WTFValidationError
from wtforms.widgets import TextInput

from app.money import parse_decimal

REQUIRED = _l("Required.")


@cache
def _wtforms_translations(locale: str) -> Translations | NullTranslations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


class BaseForm(FlaskForm):
    """A page form: CSRF-protected; an expired token re-shows the form with what was typed."""

    class Meta:
        def get_translations(self, form):
            # WTForms' own messages ("This field is required.") in the request's language, the
            # catalogue read once a process (Flask-WTF would read the file on every request).
            locale = get_locale()
            return _wtforms_translations(str(locale)) if locale is not None else None


class IdempotentForm(BaseForm):
    """A form that records something carries a one-time key, so a re-send records once."""

    idem_key = HiddenField(default=lambda: uuid.uuid4().hex)


class MoneyField(Field):
    """A Decimal with at most ``places`` decimals; never a float."""

    widget = TextInput()  # Field has no widget of its own: without this the field cannot render

    def __init__(self, label=None, validators=None, places: int = 2, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data}"

    def process_formdata(self, valuelist):
        if not valuelist or str(valuelist[0]).strip() == "":
            self.data = None
            return
        try:
            self.data = parse_decimal(valuelist[0], self.places)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter an amount with at most %(n)s decimal places.", n=self.places)) from None


def non_negative(form, field):
    if field.data is not None and field.data < 0:
        raise WTFValidationError(_l("Must not be negative."))


def positive(form, field):
    if field.data is not None and field.data <= 0:
        raise WTFValidationError(_l("Must be more than zero."))


def no_float(value) -> Decimal:
    return Decimal(str(value))


def form_view(view):
    """Mark a view whose POST validates a FlaskForm: on an expired CSRF token it is re-run and
    re-shows the form with the typed values and a plain message."""
    view.reshow_on_csrf_error = True
    return view
