"""Forms for clients and products — used by the pages and the API alike."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import REQUIRED, BaseForm, IdempotentForm, MoneyField, non_negative


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
    # The API's ``steps: [{name, piece_rate}]`` (the service checks them field by field).
    json_fields = ("steps",)
    client_id = SelectField(_l("Client"), coerce=int, validate_choice=False, validators=[DataRequired(REQUIRED)])
    name = StringField(_l("Product name"), validators=[DataRequired(REQUIRED), Length(max=100)])
    unit = StringField(_l("Unit"), default="件", validators=[Optional(), Length(max=20)])
    # Required unless the product has steps: the service says so (the steps' rates make it).
    piece_rate = MoneyField(_l("Piece rate (paid per accepted piece)"), places=4,
                            validators=[Optional(), non_negative])
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


class StepForm(BaseForm):
    """A step's change (PATCH) in the API: any of its name, a new rate and the day it starts."""

    name = StringField(_l("Step name"), validators=[Optional(), Length(min=1, max=50)])
    piece_rate = MoneyField(_l("Piece rate (paid per accepted piece)"), places=4, validators=[Optional(), non_negative])
    effective_on = DateField(_l("In force from"), validators=[Optional()])
    version = IntegerField(_l("Version"), validators=[Optional()])  # the product's, as for its PATCH


# The product page's step forms (prefixed: they sit beside the product's own form).


class StepNewForm(IdempotentForm):
    """A new step at the end of the product's steps, with its first dated rate."""

    name = StringField(_l("Step name"), validators=[DataRequired(REQUIRED), Length(max=50)])
    piece_rate = MoneyField(_l("Piece rate (paid per accepted piece)"), places=4,
                            validators=[InputRequired(REQUIRED), non_negative])
    effective_on = DateField(_l("In force from"), validators=[Optional()])


class StepRenameForm(IdempotentForm):
    name = StringField(_l("Step name"), validators=[DataRequired(REQUIRED), Length(max=50)])
    version = HiddenField()  # the product's, as the page showed it (rule 9)


class StepRateForm(IdempotentForm):
    """A new rate for a step from a day (today or later); the history keeps every earlier one."""

    piece_rate = MoneyField(_l("New piece rate"), places=4, validators=[InputRequired(REQUIRED), non_negative])
    effective_on = DateField(_l("In force from"), validators=[InputRequired(REQUIRED)])
    version = HiddenField()


class StepMoveForm(IdempotentForm):
    """One place up or down (the button pressed names the direction)."""

    direction = HiddenField()
