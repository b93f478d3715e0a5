"""The counter offline (rule 13), measured in real Chromium against gunicorn.

    flock /tmp/jijian-bench.lock python -m bench.offline          # all phases
    python -m bench.offline --taps 500 --flips 200                  # the defaults

1. A fresh SQLite database: one station, one supervisor, 40 open batches of 100 pieces.
2. gunicorn (2 workers, 4 threads, as scripts/run.sh) behind the Wifi relay of the browser
   tests (tests/browser/wifi.py), which cuts every connection when "pulled", the service
   worker's own too; the page is also put offline (``context.set_offline``).
3. Phases, one tablet (one Chromium context):
   - tap: with the Wi-Fi pulled, 50 returns through the return page itself (open the page,
     fill the counts, save: the time from the tap to the local receipt, measured in the
     page), then more through the outbox's own ``tap`` up to ``--taps`` queued;
   - replay: the Wi-Fi back, the time until the server has answered every queued record;
   - online: the same number tapped with the network up, the time until all are answered
     (the ratio replay / online);
   - chaos: ``--taps`` more while the network is pulled and put back at random
     (``--flips`` at least), then 0 lost, 0 doubled and ``check_ledger()`` clean.
4. Prints the figures with the load average and appends them to bench/results/offline.txt.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.production import _free_port, serve

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BATCHES = 40
QUANTITY = 100


def build(db_path: Path) -> list[tuple[int, str]]:
    from app import create_app
    from app.extensions import db
    from tests.makers import Makers

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench", "FAST_PASSWORD_HASH": True})
    with app.app_context():
        db.create_all()
        make = Makers()
        station = make.station(name="东城幸福就业车间")
        make.staff("supervisor", station=station, username="zhan", password="correct-horse")
        order = make.order(station=station, product=make.product(name="黑枸杞礼盒折叠"), quantity=BATCHES * QUANTITY)
        batches = [make.batch(order=order, worker=make.worker(station=station), quantity=QUANTITY) for _ in range(BATCHES)]
        ids = [(b.id, b.code) for b in batches]
        db.engine.dispose()
    return ids


def server_counts(db_path: Path) -> tuple[int, int]:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT count(*), coalesce(sum(accepted), 0) FROM returns").fetchone()


def ledger(db_path: Path) -> list:
    from app import create_app
    from app.services.ledger import check_ledger

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench"})
    with app.app_context():
        return check_ledger()


def tap_api(page, batch):
    """One tap through the outbox's own entry point; answers the time it took in the page."""
    return page.evaluate("""async ([id, code]) => {
        const t0 = performance.now();
        try {
            await JijianOutbox.tap({batch_id: id, batch_code: code, accepted: 1});
        } catch (e) {
            throw new Error("tap refused: " + JSON.stringify(e && e.fields ? e.fields : String(e)));
        }
        return performance.now() - t0;
    }""", list(batch))


def drain_time(page, timeout=120.0) -> float:
    t0 = time.perf_counter()
    while page.locator("#outbox-badge").get_attribute("data-outbox-pending") != "0":
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError("the outbox did not drain")
        page.wait_for_timeout(20)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TABLET
    from tests.browser.wifi import Wifi, cut, ready_for_offline, restore

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--taps", type=int, default=500)
    parser.add_argument("--flips", type=int, default=200)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    assert args.taps * 3 <= BATCHES * QUANTITY, "not enough pieces out for three phases"

    tmp = Path(tempfile.mkdtemp(prefix="bench-offline-"))
    db_path = tmp / "offline.sqlite3"
    batches = build(db_path)
    port = _free_port()
    proc = serve(db_path, port, workers=2, threads=4, log_path=tmp / "gunicorn.log")
    wifi = Wifi(port)
    rng = random.Random(args.seed)
    lines = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(viewport=TABLET, locale="zh-CN")
            page = context.new_page()
            ready_for_offline(page, wifi.url)

            # tap: the Wi-Fi pulled; 50 through the page, the rest through the outbox's tap.
            cut(context, wifi)
            page_taps = []
            for i in range(50):
                b = batches[i % BATCHES]
                page.goto(f"{wifi.url}/batches/{b[0]}/return")
                page.wait_for_selector("#return-form:not([hidden])")
                page.fill("input[name=accepted]", "1")
                page.click("#save-return")
                page.wait_for_selector("#local-receipt:not([hidden])")
                page_taps.append(float(page.locator("#local-receipt").get_attribute("data-tap-ms")))
            page.goto(f"{wifi.url}/counter/outbox")
            api_taps = [tap_api(page, batches[i % BATCHES]) for i in range(50, args.taps)]
            queued = page.locator("#outbox-badge").get_attribute("data-outbox-pending")
            assert queued == str(args.taps), queued

            # replay: the Wi-Fi back.
            restore(context, wifi)
            replay_s = drain_time(page)
            count, pieces = server_counts(db_path)
            assert count == args.taps and pieces == args.taps, (count, pieces)

            # online: the same number, the network up all along.
            t0 = time.perf_counter()
            for i in range(args.taps):
                tap_api(page, batches[i % BATCHES])
            online_s = (time.perf_counter() - t0) + drain_time(page)
            count, pieces = server_counts(db_path)
            assert count == 2 * args.taps and pieces == 2 * args.taps, (count, pieces)

            # chaos: flips at random moments while tapping.
            flips0 = wifi.flips
            chaos_t0 = time.perf_counter()
            for i in range(args.taps):
                tap_api(page, batches[i % BATCHES])
                if rng.random() < max(0.5, args.flips / args.taps * 1.1):
                    (cut if wifi.is_up else restore)(context, wifi)
                page.wait_for_timeout(rng.randint(0, 15))
            while wifi.flips - flips0 < args.flips:
                (cut if wifi.is_up else restore)(context, wifi)
                page.wait_for_timeout(rng.randint(0, 30))
            if not wifi.is_up:
                restore(context, wifi)
            chaos_drain = drain_time(page, timeout=300)
            chaos_s = time.perf_counter() - chaos_t0
            flips = wifi.flips - flips0
            attention = page.locator("#outbox-badge").get_attribute("data-outbox-attention")
            browser.close()
        count, pieces = server_counts(db_path)
        lost = 3 * args.taps - count
        breaches = ledger(db_path)
        load = os.getloadavg()
        page_taps.sort()
        lines = [
            f"bench.offline {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}  ({os.cpu_count()} CPUs)",
            f"tap offline, through the page (50): median {statistics.median(page_taps):.1f} ms, "
            f"p95 {page_taps[int(len(page_taps) * 0.95) - 1]:.1f} ms, max {page_taps[-1]:.1f} ms",
            f"tap offline, outbox.tap ({len(api_taps)}): median {statistics.median(api_taps):.1f} ms, "
            f"max {max(api_taps):.1f} ms",
            f"replay of {args.taps} queued after the network returned: {replay_s:.2f} s",
            f"the same {args.taps} tapped online: {online_s:.2f} s  (replay / online = {replay_s / online_s:.2f})",
            f"chaos: {args.taps} taps, {flips} flips, {chaos_s:.1f} s (drain {chaos_drain:.1f} s): "
            f"lost {lost}, doubled {max(0, count - 3 * args.taps)}, pieces {pieces} of {3 * args.taps}, "
            f"needs attention {attention}, ledger breaches {len(breaches)}",
        ]
    finally:
        wifi.close()
        proc.terminate()
        proc.wait(timeout=20)
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "offline.txt").open("a") as fh:
        fh.write("\n".join(lines) + "\n\n")
    return 0 if lines and "lost 0, doubled 0" in lines[-1] and "breaches 0" in lines[-1] else 1


if __name__ == "__main__":
    raise SystemExit(main())
