"""The template helpers made cheap for the pages answer exactly what the slower
Flask-Babel paths they replaced answered."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from flask import render_template_string
from flask_babel import force_locale, format_date, gettext

from app.templating import format_day

STRING = "Accepted %(a)s, rejected %(r)s, out with workers %(o)s, unissued %(u)s of %(q)s"


@pytest.mark.parametrize("value", [
    date(2026, 12, 1), date(2024, 2, 29), date(999, 1, 2),
    datetime(2026, 11, 30, 15, 59, 59), datetime(2026, 11, 30, 16, 0, 0),  # either side of midnight in Shanghai
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC), datetime(2026, 6, 1, 1, 0, tzinfo=timezone(timedelta(hours=-5))),
])
def test_day_filter_writes_what_babels_pattern_wrote(app, value):
    with app.test_request_context("/"):
        assert format_day(value) == format_date(value, "yyyy-MM-dd")
        assert render_template_string("{{ v|day }}", v=value) == format_date(value, "yyyy-MM-dd")
    assert format_day(None) == "" and format_day("") == ""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_template_strings_translate_as_flask_babel_did(app, lang):
    template = "{{ _('Orders board') }}|{{ _(s, a='<b>', r=1, o=2, u=3, q=4) }}"
    with app.test_request_context(f"/?lang={lang}"):
        expected = f"{gettext('Orders board')}|{gettext(STRING, a='&lt;b&gt;', r=1, o=2, u=3, q=4)}"
        assert render_template_string(template, s=STRING) == expected
        assert (gettext("Orders board") == "订单看板") == (lang == "zh")
        assert render_template_string("{{ _('50%%') }}|{{ _('%(n)s%%', n=7) }}|{{ _('a < b') }}") == "50%|7%|a < b"


def test_a_document_in_another_language_inside_a_request_gets_its_own_strings(app):
    with app.test_request_context("/?lang=en"):
        page = render_template_string("{{ _('Orders board') }}")
        with force_locale("zh"):
            document = render_template_string("{{ _('Orders board') }}")
        again = render_template_string("{{ _('Orders board') }}")
    assert (page, document, again) == ("Orders board", "订单看板", "Orders board")


@pytest.mark.parametrize("endpoint, key, values, ids", [
    ("orders.order_detail", "order_id", {}, [1, 469, 2**31 - 1]),
    ("wages.worker_detail", "worker_id", {"period": 7}, [3, 1999]),
    ("wages.payslip_pdf", "payslip_id", {}, [12]),
])
def test_url_for_ids_builds_what_url_for_builds(app, endpoint, key, values, ids):
    from flask import url_for

    from app.templating import url_for_ids

    with app.test_request_context("/"):
        link = url_for_ids(endpoint, key, **values)
        assert [link(i) for i in ids] == [url_for(endpoint, **values, **{key: i}) for i in ids]
        assert render_template_string("{% set u = url_for_ids(e, k) %}{{ u(5) }}", e=endpoint, k=key) == \
            url_for(endpoint, **{key: 5})


def test_a_navigation_label_with_markup_characters_shows_as_text(app, monkeypatch):
    from app import templating

    monkeypatch.setattr(templating, "NAV", [("main.home", "R&D <b>", ("admin",))])
    monkeypatch.setattr(templating, "NAV_EXTRA", [])
    templating._nav_for.cache_clear()
    try:
        with app.test_request_context("/"):
            (entry,) = templating._nav_for("admin", "main.home", "en", "")
            html = render_template_string("{{ label }}", label=entry.label)
    finally:
        templating._nav_for.cache_clear()
    assert html == "R&amp;D &lt;b&gt;"


@pytest.mark.parametrize("endpoint, values, script_root", [
    ("static", {"filename": "css/app.css"}, ""),
    ("static", {"filename": ""}, "/jijian"),
    ("auth.logout", {}, "/jijian"),
])
def test_fixed_url_builds_what_url_for_builds_under_each_mount_point(app, endpoint, values, script_root):
    from flask import url_for

    from app.templating import fixed_url

    for root in ("", script_root):
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
            assert fixed_url(endpoint, **values) == url_for(endpoint, **values)
