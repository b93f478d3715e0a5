"""Every string the counter's JavaScript shows, in the page's language: rendered into the
page as a JSON data block (``counter_strings``), so the pages kept for offline use carry
their own words. ``{n}``-style fields are filled in by the script."""
from __future__ import annotations

import json

from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup


def js_strings() -> dict[str, str]:
    return {
        "pending": _("%(n)s waiting to be sent", n="{n}"),
        "attention": _("%(n)s need attention", n="{n}"),
        "all_sent": _("Nothing waiting"),
        "data_age": _("Offline data as of %(t)s", t="{t}"),
        "no_data": _("No offline data on this tablet yet"),
        "offline": _("No network: records are kept on this tablet and sent when it comes back."),
        "not_sent": _("Not sent yet"),
        "local_receipt": _("Recorded on this tablet"),
        "sending": _("Sending…"),
        "sent": _("Sent"),
        "over_local": _("At most %(n)s pieces are still out (counting the records waiting on this tablet).", n="{n}"),
        "enter_one": _("Enter at least one piece."),
        "unknown_batch": _("This batch is not in this tablet's list. Connect to the network and open it again."),
        "signout_warn": _("%(n)s records have not been sent yet. They stay on this tablet and are sent when you sign in again.", n="{n}"),
        "signout_anyway": _("Sign out anyway"),
        "stay": _("Stay signed in"),
        "sign_in_again": _("Sign in again to send the records waiting on this tablet."),
        "other_user": _("%(n)s records tapped by another account wait for that account to sign in.", n="{n}"),
        "resend": _("Send again"),
        "discard": _("Discard"),
        "discard_reason": _("Why is it discarded?"),
        "reason_required": _("Say why this record is discarded."),
        "server_said": _("Refused by the server:"),
        "accepted": _("Accepted"),
        "rejected": _("Rejected"),
        "unused": _("Unused materials"),
        "work_date": _("Work date"),
        "batch": _("Batch"),
        "tapped_at": _("Tapped at %(t)s", t="{t}"),
        "retry": _("Tried %(n)s times; trying again soon.", n="{n}"),
        "empty": _("Nothing is waiting on this tablet."),
        "camera": _("Scan with the camera"),
        "camera_stop": _("Stop the camera"),
        "camera_failed": _("The camera could not be opened. Type the code instead."),
        "not_a_ticket": _("This QR code is not a batch ticket."),
        "send_now": _("Send now"),
        "correction": _("Correction"),
        "reason_needed": _("Say why this is corrected."),
        "photo_offline": _("A photo needs the network; without it the counts are kept and sent later."),
        "save_all": _("All %(n)s good — save", n="{n}"),
        "save_mixed": _("Save: %(a)s good, %(r)s rejected, %(u)s unused", a="{a}", r="{r}", u="{u}"),
        "next_return": _("Next return"),
        "still_out": _("Still out"),
    }


_RENDERED: dict[str, Markup] = {}


def counter_strings() -> Markup:
    """The strings as JSON safe inside a ``<script type="application/json">`` data block;
    rendered once per language and process (every supervisor page carries them)."""
    locale = str(get_locale())
    if locale not in _RENDERED:
        text = json.dumps(js_strings(), ensure_ascii=False)
        _RENDERED[locale] = Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    return _RENDERED[locale]
