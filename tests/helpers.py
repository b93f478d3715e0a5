"""Small helpers for driving pages the way a browser does."""
import re


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on the page (or the page's logout form)."""
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def form_values(html: str) -> dict:
    """Hidden inputs of the first form (CSRF token, idempotency key)."""
    values = {}
    for tag in re.findall(r'<input[^>]*type="hidden"[^>]*>', html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) not in values:
            values[name.group(1)] = value.group(1) if value else ""
    return values


def assert_ledger_holds() -> None:
    """Fail naming every row that breaks an invariant (app/services/ledger.py); for any test
    that has just written production, wage or invoice records."""
    from app.services.ledger import check_ledger

    breaches = check_ledger()
    assert not breaches, "the ledger breaks its invariants:\n" + "\n".join(map(str, breaches))
