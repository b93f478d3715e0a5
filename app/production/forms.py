"""Forms for clients, products, orders, batches and returns — used by the pages and the API alike."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import BaseForm, IdempotentForm, MoneyField, non_negative

REQUIRED = _l("Required.")


class ClientForm(IdempotentForm):
    name = StringField(_l("Client name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    contact = StringField(_l("Contact person"), validators=[Optional(), Length(max=50)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    tax_id = StringField(_l("Tax ID"), validators=[Optional(), Length(max=30)])
    payment_terms_days = IntegerField(_l("Payment terms (days)"), default=30,
                                      validators=[Optional(), NumberRange(0, 365, message=_l("0 to 365 days."))])
    version = HiddenField()


class ProductForm(IdempotentForm):
    client_id = SelectField(_l("Client"), coerce=int, validate_choice=False, validators=[DataRequired(REQUIRED)])
    name = StringField(_l("Product name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    unit = StringField(_l("Unit"), default="件", validators=[Optional(), Length(max=20)])
    piece_rate = MoneyField(_l("Piece rate (paid per accepted piece)"), places=4,
                            validators=[InputRequired(REQUIRED), non_negative])
    unit_price = MoneyField(_l("Unit price (charged to the client)"), places=4,
                            validators=[InputRequired(REQUIRED), non_negative])
    material_cost = MoneyField(_l("Material cost per piece"), places=4, validators=[Optional(), non_negative])
    batch_size = IntegerField(_l("Usual batch size"), default=100,
                              validators=[Optional(), NumberRange(1, 100000, message=_l("1 to 100,000."))])
    picture = FileField(_l("Picture"), validators=[Optional(), FileAllowed(["jpg", "jpeg", "png", "webp"], _l("A JPEG, PNG or WebP picture."))])
    version = HiddenField()


class ProductPatchForm(BaseForm):
    """A partial change (PATCH): only the fields sent are validated and applied."""

    name = StringField(_l("Product name"), validators=[Optional(), Length(min=1, max=100)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=20)])
    piece_rate = MoneyField(_l("Piece rate (paid per accepted piece)"), places=4, validators=[Optional(), non_negative])
    unit_price = MoneyField(_l("Unit price (charged to the client)"), places=4, validators=[Optional(), non_negative])
    material_cost = MoneyField(_l("Material cost per piece"), places=4, validators=[Optional(), non_negative])
    batch_size = IntegerField(_l("Usual batch size"), validators=[Optional(), NumberRange(1, 100000, message=_l("1 to 100,000."))])
    version = IntegerField(_l("Version"), validators=[Optional()])


class OrderForm(IdempotentForm):
    client_id = SelectField(_l("Client"), coerce=int, validate_choice=False, validators=[DataRequired(REQUIRED)])
    product_id = SelectField(_l("Product"), coerce=int, validate_choice=False, validators=[DataRequired(REQUIRED)])
    station_id = SelectField(_l("Station"), coerce=int, validate_choice=False, validators=[DataRequired(REQUIRED)])
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(REQUIRED), NumberRange(1, 10_000_000, message=_l("Must be more than zero."))])
    due_date = DateField(_l("Due date"), validators=[InputRequired(REQUIRED)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])


class OrderEditForm(BaseForm):
    quantity = IntegerField(_l("Quantity"), validators=[Optional(), NumberRange(1, 10_000_000, message=_l("Must be more than zero."))])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
    version = HiddenField()


class BatchForm(IdempotentForm):
    order_id = IntegerField(_l("Order"), validators=[InputRequired(REQUIRED)])
    worker_id = IntegerField(_l("Worker"), validators=[InputRequired(REQUIRED)])
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(REQUIRED), NumberRange(1, 1_000_000, message=_l("Must be more than zero."))])
    due_date = DateField(_l("Due date"), validators=[Optional()])


class ReturnForm(IdempotentForm):
    """What came back. Counts are non-negative unless this is a correction (``corrects`` set)."""

    accepted = IntegerField(_l("Accepted"), default=0, validators=[Optional()])
    rejected = IntegerField(_l("Rejected"), default=0, validators=[Optional()])
    unused = IntegerField(_l("Unused materials"), default=0, validators=[Optional()])
    work_date = DateField(_l("Work date"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
    photo = FileField(_l("Photo of the rejects"), validators=[Optional(), FileAllowed(["jpg", "jpeg", "png", "webp"], _l("A JPEG, PNG or WebP picture."))])
    corrects = IntegerField(_l("Corrects return"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if not ok:
            return False
        if self.corrects.data is None:
            for field in (self.accepted, self.rejected, self.unused):
                if field.data is not None and field.data < 0:
                    field.errors.append(_l("Must not be negative."))
                    ok = False
        elif not (self.reason.data or "").strip():
            self.reason.errors.append(_l("Say why this is corrected."))
            ok = False
        return ok


class CloseBatchForm(IdempotentForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])

