"""Forms for issuing a batch, recording what came back, and closing it — used by the pages and the API alike."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import REQUIRED, IdempotentForm


class BatchForm(IdempotentForm):
    order_id = IntegerField(_l("Order"), validators=[InputRequired(REQUIRED)])
    worker_id = IntegerField(_l("Worker"), validators=[InputRequired(REQUIRED)])
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(REQUIRED), NumberRange(1, 1_000_000, message=_l("Must be more than zero."))])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    issued_on = DateField(_l("Issue date"), validators=[Optional()])
    step_id = IntegerField(_l("Step"), validators=[Optional()])


class ReturnForm(IdempotentForm):
    """What came back. Counts are non-negative unless this is a correction (``corrects`` set)."""

    accepted = IntegerField(_l("Accepted"), default=0, validators=[Optional()])
    rejected = IntegerField(_l("Rejected"), default=0, validators=[Optional()])
    unused = IntegerField(_l("Unused materials"), default=0, validators=[Optional()])
    work_date = DateField(_l("Work date"), validators=[Optional()])
    recorded_at = StringField(_l("Counted at"), validators=[Optional(), Length(max=40)])
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
