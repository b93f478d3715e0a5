"""Forms for issuing a batch, recording what came back, and closing it — used by the pages and the API alike."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import REQUIRED, IdempotentForm


class BatchForm(IdempotentForm):
    order_id = IntegerField(_l("Order"), validators=[InputRequired(REQUIRED)])
    worker_id = IntegerField(_l("Worker"), validators=[InputRequired(REQUIRED)])
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(REQUIRED), NumberRange(1, 1_000_000, message=_l("Must be more than zero."))])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    issued_on = DateField(_l("Handed out on"), validators=[Optional()])
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


# The reasons a batch is closed with pieces still out, most common first (the page's choices).
SHORTFALL_REASONS = [
    ("lost", _l("Materials lost")),
    ("damaged", _l("Materials damaged")),
    ("moved", _l("The worker moved away or stopped")),
    ("cancelled", _l("The order was cancelled or changed")),
    ("other", _l("Other (say below)")),
]


class CloseBatchPageForm(CloseBatchForm):
    """The counter's close: with pieces still out it asks for a reason from the list (or
    typed) and a tick confirming the shortfall and its deduction (checked in the view: the
    API keeps its optional reason)."""

    reason_choice = RadioField(_l("Why are pieces missing?"), choices=SHORTFALL_REASONS, validators=[Optional()],
                               validate_choice=False)
    reason = StringField(_l("In your words (optional)"), validators=[Optional(), Length(max=200)])
    confirm = BooleanField(_l("Yes, close it with these pieces missing"))

    def shortfall_reason(self) -> str:
        labels = dict(SHORTFALL_REASONS)
        choice = self.reason_choice.data if self.reason_choice.data in labels else None
        text = (self.reason.data or "").strip()
        if choice and choice != "other":
            return f"{labels[choice]}: {text}" if text else str(labels[choice])
        return text


class PlanIssueForm(IdempotentForm):
    """The suggested split on the issue page: quantities come as ``qty_<worker_id>`` fields."""

    step_id = IntegerField(_l("Step"), validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])
