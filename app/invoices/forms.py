"""Invoice forms — used by the pages and the API alike."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import TextInput

from app.forms import BaseForm, IdempotentForm, MoneyField, positive

REQUIRED = _l("Required.")
LANGUAGE_CHOICES = [("zh", _l("Chinese")), ("en", _l("English"))]


class IssueInvoiceForm(IdempotentForm):
    client_id = IntegerField(_l("Client"), validators=[InputRequired(REQUIRED)])
    order_ids = SelectMultipleField(_l("Orders"), coerce=int, validate_choice=False, validators=[Optional()])
    # Only pieces accepted on work dates up to this day are billed (the API: absent = everything).
    up_to = DateField(_l("Billable pieces up to"), validators=[Optional()])
    language = SelectField(_l("Language of the invoice"), choices=LANGUAGE_CHOICES, default="zh", validators=[Optional()])


class VoidInvoiceForm(IdempotentForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Say why the invoice is voided.")), Length(max=200)])


class PaymentForm(IdempotentForm):
    paid_on = DateField(_l("Date received"), validators=[InputRequired(REQUIRED)])
    amount = MoneyField(_l("Amount received"), places=2, widget=TextInput(),
                        validators=[InputRequired(REQUIRED), positive])


class EnterpriseSettingsForm(BaseForm):
    name = StringField(_l("Enterprise name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    tax_id = StringField(_l("Tax ID"), validators=[Optional(), Length(max=30)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=60)])
    bank_account = StringField(_l("Bank account"), validators=[Optional(), Length(max=40)])
    payment_note = TextAreaField(_l("Other payment instructions printed on invoices"), validators=[Optional(), Length(max=300)])
    logo = FileField(_l("Logo (PNG or JPEG, at most 1 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
