"""A Wi-Fi that can be pulled: a TCP relay between Chromium and the live server.

``context.set_offline`` does not cut a service worker's own fetches (playwright #2311), so the
tests go through this relay and cut it too: while it is down every new connection is closed
at once and every open one is torn down mid-request, as a dropped Wi-Fi would (a POST the
server committed may lose its answer: the outbox must then replay it with the same key).
"""
from __future__ import annotations

import socket
import struct
import threading
import time

PASSWORD = "correct-horse"


class Wifi:
    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.is_up = True
        self.flips = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._closed:
            try:
                conn, _addr = self.listener.accept()
            except OSError:
                return
            if not self.is_up:
                _reset(conn)
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _reset(conn)
                continue
            with self._lock:
                self._open.update((conn, upstream))
            threading.Thread(target=self._pump, args=(conn, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, conn), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with self._lock:
                    self._open.discard(s)
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def down(self):
        self.is_up = False
        self.flips += 1
        with self._lock:
            doomed = list(self._open)
            self._open.clear()
        for s in doomed:
            _reset(s)

    def up(self):
        self.is_up = True
        self.flips += 1

    def close(self):
        self._closed = True
        self.down()
        self.listener.close()


def _reset(sock):
    """Close with a TCP reset, so the browser sees the connection fail at once."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


# --- the tablet's side, shared by the browser tests and bench/offline.py


def poll(page, script, timeout=60.0):
    """Wait until an async page expression answers truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {script}")
        time.sleep(0.1)


def ready_for_offline(page, base, user="zhan"):
    """Sign in and open the counter once online: the service worker installs, keeps the
    offline pages, and the tablet stores its snapshot."""
    from tests.browser.conftest import sign_in_staff

    sign_in_staff(page, base, user, PASSWORD)
    page.goto(f"{base}/batches")
    poll(page, "navigator.serviceWorker.controller !== null")
    poll(page, "caches.match('/counter/return').then(r => !!r)")
    poll(page, "window.JijianOutbox && JijianOutbox.snapshot().then(s => !!(s && s.batches.length))")


def cut(context, wifi):
    wifi.down()
    context.set_offline(True)


def restore(context, wifi):
    wifi.up()
    context.set_offline(False)


def badge(page) -> tuple[int, int]:
    el = page.locator("#outbox-badge")
    return int(el.get_attribute("data-outbox-pending") or -1), int(el.get_attribute("data-outbox-attention") or -1)


def wait_badge(page, pending, attention=0, timeout=30.0):
    deadline = time.monotonic() + timeout
    while badge(page) != (pending, attention):
        if time.monotonic() > deadline:
            raise AssertionError(f"badge {badge(page)}, expected {(pending, attention)}")
        page.wait_for_timeout(100)
