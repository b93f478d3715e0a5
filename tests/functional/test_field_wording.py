"""Navigation in groups for the admin; job schedules in words; one word per concept."""
import pytest

from app import create_app
from app.dates import month_bounds
from app.jobs_admin.views import describe_schedule


def test_admin_navigation_is_grouped_and_the_supervisors_stays_flat(client, login_as, make):
    login_as("admin")
    html = client.get("/home").text
    nav = html[html.index('class="mainnav"'):html.index("</nav>")]
    assert nav.count('<details class="navgroup') == 5
    assert "<summary>生产</summary>" in nav and "<summary>设置</summary>" in nav
    assert nav.count("<a ") == 15  # every page still one tap inside its menu
    station = make.station()
    client.post("/logout")
    login_as("supervisor", station=station)
    html = client.get("/home").text
    nav = html[html.index('class="mainnav"'):html.index("</nav>")]
    assert "navgroup" not in nav and nav.count("<a ") <= 8


def test_the_page_inside_a_group_marks_its_group_open_to_the_eye(client, login_as):
    login_as("admin")
    html = client.get("/products").text
    nav = html[html.index('class="mainnav"'):html.index("</nav>")]
    assert '<details class="navgroup active">\n        <summary>客户与品种</summary>' in nav
    assert 'aria-current="page"' in nav


@pytest.mark.parametrize("expr, zh", [
    ("*/15 * * * *", "每 15 分钟"), ("5 * * * *", "每小时第 5 分钟"), ("30 1 * * *", "每天 01:30"),
    ("0 2 * * 1", "每周一 02:00"), ("0 3 6 * *", "每月 6 日 03:00"), ("off", "未开启"),
    ("0 0 1 1 *", "自定义时间表（0 0 1 1 *）"),
])
def test_schedules_read_in_words(app, expr, zh):
    with app.test_request_context("/?lang=zh"):
        assert describe_schedule(expr) == zh


def test_job_page_shows_words_not_cron_or_code_names(client, login_as):
    login_as("admin")
    html = client.get("/admin/jobs").text
    assert "每 15 分钟" in html and "每天 01:30" in html
    assert "*/15" not in html and "mark_overdue</code>" not in html and "job-id" not in html
    english = client.get("/admin/jobs?lang=en").text
    assert "Every 15 minutes" in english and "Every day at 02:00" in english


def test_one_name_per_concept_on_the_pages(client, login_as, make):
    login_as("admin")
    make.product()
    products = client.get("/products").text
    assert "计件单价" in products and "结算单价" in products
    assert "<th class=\"num\">单价</th>" not in products
    from app.models import local_today
    from app.services import wages
    period = wages.create_pay_period(*month_bounds(local_today()))
    from app.extensions import db
    db.session.commit()
    page = client.get(f"/pay-periods/{period.id}").text
    assert "奖励/扣款" in page and "遗失物料扣款" in page and ">扣款<" not in page


def test_the_resettled_group_has_one_name_on_the_form_and_in_reports():
    from babel.messages.pofile import read_po

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    from pathlib import Path
    names = set()
    for part in (Path(app.root_path).parent / "translations" / "zh" / "parts").glob("*.po"):
        for m in read_po(part.open("rb")):
            if m.id in ("Resettled family", "Resettled families"):
                names.add(m.string)
    assert names == {"易地搬迁户"}
