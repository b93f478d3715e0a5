"""Load generation with wrk (``apt-get install wrk``): a closed loop of N keep-alive connections,
driven from C so the load generator takes little of the 2 CPUs the server under test shares.

A phase is a list of requests (method, path, body, headers); each wrk thread owns one
connection and walks the list from its own offset. ``{uniq}`` in a header value is replaced by a
key unique to the request (thread number and counter), for Idempotency-Key. Per-connection
headers (each client signed in as someone else) go in ``per_client_headers``.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

LUA = r"""
local requests = %(requests)s
local per_client = %(per_client)s
local ok_status = %(ok_status)s
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  n = (tid - 1) * 7919
  math.randomseed(os.time() * 100 + tid)
  run_id = os.time() .. "-" .. math.random(1, 1000000000)
  bad = 0
  statuses = {}
  my_headers = per_client[((tid - 1) %% math.max(#per_client, 1)) + 1] or {}
end

function request()
  n = n + 1
  counter = counter + 1
  local r = requests[(n %% #requests) + 1]
  local headers = {}
  for k, v in pairs(r.headers) do
    headers[k] = (string.gsub(v, "{uniq}", run_id .. "-" .. tid .. "-" .. counter))
  end
  for k, v in pairs(my_headers) do headers[k] = v end
  return wrk.format(r.method, r.path, headers, r.body)
end

function response(status, headers, body)
  if not ok_status[status] then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  local by_status = {}
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    local s = t:get("statuses")
    for k, v in pairs(s) do by_status[tostring(k)] = (by_status[tostring(k)] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(by_status) do table.insert(parts, string.format('"%%s": %%d', k, v)) end
  io.write(string.format(
    'JSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "bad_status": %%d, "socket_errors": %%d, "statuses": {%%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, bad_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _lua_table(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"[ {_lua_key(k)} ] = {_lua_table(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_lua_table(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "nil"
    return _lua_string(str(value))


def _lua_key(key) -> str:
    return repr(key) if isinstance(key, int) else _lua_string(str(key))


def run(base_url: str, requests: list[tuple], clients: int, seconds: float, warmup: float = 2.0,
        ok_statuses=(200,), per_client_headers: list[dict] | None = None) -> dict:
    """Run a warm-up, then the measured phase; return latency percentiles (ms), throughput and
    the count of answers outside ``ok_statuses`` or lost connections."""
    script = LUA % {
        "requests": _lua_table([{"method": m, "path": p, "body": b, "headers": h or {}} for m, p, b, h in requests]),
        "per_client": _lua_table(per_client_headers or []),
        "ok_status": _lua_table({s: True for s in ok_statuses}),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "phase.lua"
        path.write_text(script)
        cmd = ["wrk", "-t", str(clients), "-c", str(clients), "--timeout", "30s", "-s", str(path), base_url]
        if warmup > 0:
            subprocess.run([*cmd[:1], "-d", f"{max(1, round(warmup))}s", *cmd[1:]], check=True, capture_output=True, text=True)
        out = subprocess.run([*cmd[:1], "-d", f"{max(1, round(seconds))}s", *cmd[1:]], check=True, capture_output=True, text=True)
    line = next((raw for raw in out.stdout.splitlines() if raw.startswith("JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line[5:])
    elapsed = data["duration_us"] / 1e6
    good = data["requests"] - data["bad_status"]
    return {
        "requests": data["requests"], "ok": good, "errors": data["bad_status"] + data["socket_errors"],
        "statuses": data["statuses"], "rps": round(good / elapsed, 1),
        "p50_ms": round(data["p50_us"] / 1000, 2), "p95_ms": round(data["p95_us"] / 1000, 2),
        "p99_ms": round(data["p99_us"] / 1000, 2), "max_ms": round(data["max_us"] / 1000, 2),
    }
