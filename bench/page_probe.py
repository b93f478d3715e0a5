"""CPU of one page render, measured in-process: the app's own work, without HTTP,
gunicorn or the load generator, so it moves less with the machine's load than latency does.

Run by ``bench.pages`` as a script in the checkout under test (``PYTHONPATH`` names it), so
two versions can be compared on the same database in the same minutes. It imports only the
app and the standard library.

    python bench/page_probe.py SPEC.json             # prints one JSON line
    python bench/page_probe.py SPEC.json board       # cProfile of the board's renders instead

SPEC: {"database_url", "secret_key", "repeat", "pages": [{"key", "path", "cookie", "cache"}],
"postmaster_pid"}. The cookie is a session signed by a server with the same secret key.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time


def tree_cpu_seconds(root_pid: int | None) -> float:
    """utime + stime of ``root_pid`` and its descendants (PostgreSQL's backends), from /proc."""
    if not root_pid:
        return 0.0
    parents, cpu = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def main(spec_path: str, profile: str | None = None) -> None:
    spec = json.loads(open(spec_path).read())
    os.environ.setdefault("JIJIAN_ENV", "production")
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": spec["database_url"], "SECRET_KEY": spec["secret_key"]})
    client = app.test_client(use_cookies=False)  # the given session cookie, as sent
    repeat = spec["repeat"]
    pg = spec.get("postmaster_pid")
    out = {}
    for page in spec["pages"]:
        app.config["PAGE_CACHE_SIZE"] = 4096 if page.get("cache", True) else 0
        app.extensions.pop("page_caches", None)
        headers = {"Cookie": page["cookie"]} if page.get("cookie") else {}
        paths = page["paths"]
        for i in range(3):  # warm: compiled templates, prepared statements, the page cache
            resp = client.get(paths[i % len(paths)], headers=headers)
            assert resp.status_code == 200, (page["key"], resp.status_code, resp.headers.get("Location"))
        if profile == page["key"]:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for i in range(repeat):
                client.get(paths[i % len(paths)], headers=headers)
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime")
            stats.print_stats(40)
            stats.sort_stats("cumulative").print_stats(60)
            return
        cpu, wall = [], []
        db0 = tree_cpu_seconds(pg)
        for i in range(repeat):
            path = paths[i % len(paths)]
            c0, t0 = time.process_time(), time.perf_counter()
            resp = client.get(path, headers=headers)
            body = resp.get_data()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - t0)
            assert resp.status_code == 200, (page["key"], resp.status_code)
        db_ms = (tree_cpu_seconds(pg) - db0) * 1000 / repeat if pg else 0.0
        out[page["key"]] = {"cpu_ms": round(statistics.median(cpu) * 1000, 2), "cpu_min_ms": round(min(cpu) * 1000, 2),
                            "wall_ms": round(statistics.median(wall) * 1000, 2), "db_cpu_ms": round(db_ms, 2),
                            "bytes": len(body)}
    print("JSON " + json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:3])
