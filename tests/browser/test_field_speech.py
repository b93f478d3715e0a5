"""The read-aloud button on a phone with no Chinese voice reads the digits with the voice it
has, and on a phone with no voice at all says so on the button (finding 12)."""
from app.services import production
from tests.browser.conftest import sign_in_worker

VOICES = """
window.__spoken = [];
window.speechSynthesis.speak = function (u) { window.__spoken.push({text: u.text, lang: u.lang}); };
window.speechSynthesis.getVoices = function () { return %s; };
"""


def _worker_with_earnings(make):
    from app.extensions import db

    station = make.station()
    worker = make.worker(station=station, name="高秀英", phone="13900000009", pin="258036")
    order = make.order(station=station, product=make.product(piece_rate="0.3500"), quantity=1000)
    batch = production.issue_batch(order=order, worker=worker, quantity=100)
    production.record_return(batch=batch, accepted=37)
    db.session.commit()
    return worker


def test_no_chinese_voice_reads_the_digits_and_no_voice_says_so(live, page_at, shot):
    server, make = live
    _worker_with_earnings(make)
    english_only = page_at("phone")
    english_only.add_init_script(VOICES % '[{lang: "en-US", name: "English"}]')
    sign_in_worker(english_only, server.url, "13900000009", "258036")
    button = english_only.locator("button.speak")
    assert "没有中文语音" in button.inner_text()
    button.click()
    spoken = english_only.evaluate("() => window.__spoken")
    assert spoken == [{"text": "1 2 . 9 5 ... 1 2 . 9 5", "lang": "en-US"}]  # 37 × 0.35

    silent = page_at("phone")
    silent.add_init_script(VOICES % "[]")
    sign_in_worker(silent, server.url, "13900000009", "258036")
    button = silent.locator("button.speak")
    assert "没有可朗读的语音" in button.inner_text() and button.is_disabled()
    shot(silent, "field-speech-no-voice-phone")
