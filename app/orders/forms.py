"""Forms for taking and changing an order — used by the pages and the API alike."""
from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import REQUIRED, BaseForm, IdempotentForm


class OrderForm(IdempotentForm):
    client_id = SelectField(_l("Client"), coerce=int, validate_choice=False, validators=[DataRequired(REQUIRED)])
    product_id = SelectField(_l("Product"), coerce=int, validate_choice=False, validators=[DataRequired(REQUIRED)])
    station_id = SelectField(_l("Station"), coerce=int, validate_choice=False, validators=[DataRequired(REQUIRED)])
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(REQUIRED), NumberRange(1, 10_000_000, message=_l("Must be more than zero."))])
    due_date = DateField(_l("Due date"), validators=[InputRequired(REQUIRED)])
    taken_on = DateField(_l("Order date"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])


class OrderEditForm(BaseForm):
    quantity = IntegerField(_l("Quantity"), validators=[Optional(), NumberRange(1, 10_000_000, message=_l("Must be more than zero."))])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
    version = HiddenField()
