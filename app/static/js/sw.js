/* The counter's service worker (rule 13), served at /sw.js with scope "/".
   VERSION, PRECACHE, SHELL and OUTBOX are set by the app above this line.

   - Static files: from the cache, refreshed in the background (the pages need no internet).
   - Product pictures: cache first.
   - A return page (/batches/N/return) or the scan box (/scan?code=…) the network cannot give
     (offline, or no answer within a few seconds): the offline return page SHELL, which
     counter.js fills from IndexedDB.
   - The other counter pages (home, order board, batches, the outbox list): the network
     first, else the copy kept from the last visit.
   - Everything else, and every POST, goes to the network untouched: the outbox (outbox.js)
     replays from the page, never from here, so a record is never sent behind its back. */
"use strict";

var STATIC_CACHE = "jijian-static-" + VERSION;
var PAGES = "jijian-pages";
var PICTURES = "jijian-pictures";
var NAV_TIMEOUT_MS = 4000;
var RETURN_PAGE = /^\/batches\/\d+\/return$/;
var COUNTER_START = ["/board", "/batches"];
var COUNTER_PAGES = /^\/(home|board|stations\/\d+\/board|batches|batches\/overdue|batches\/\d+|batches\/\d+\/correct|counter\/outbox|scan)$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
    return cache.addAll(PRECACHE).then(function () { return keepShell(cache); });
  }).then(keepCounterPages).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("jijian-static-") === 0 && n !== STATIC_CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "refresh-shell") {
    event.waitUntil(caches.open(STATIC_CACHE).then(keepShell).then(keepCounterPages));
  }
});

// The shell and the outbox page need a signed-in session: keep them only when they came
// back as themselves (not the sign-in page a redirect would give).
function keepShell(cache) {
  return Promise.all([SHELL, OUTBOX].map(function (url) {
    return fetch(url, { credentials: "same-origin", redirect: "manual" }).then(function (resp) {
      if (resp.ok && resp.type === "basic") return cache.put(url, resp);
      return null;
    }).catch(function () { return null; });
  }));
}

// The board and the open batches as they were last seen online, so they open offline even
// when the tablet never visited them; at most every few minutes (each page load asks).
var lastPages = 0;
function keepCounterPages() {
  if (Date.now() - lastPages < 180000) return null;
  lastPages = Date.now();
  return caches.open(PAGES).then(function (cache) {
    return Promise.all(COUNTER_START.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (resp) {
        var final = new URL(resp.url);
        if (!resp.ok || /\/login$/.test(final.pathname)) return null;
        // A followed redirect (/board → /stations/N/board) cannot answer a navigation as it
        // is: keep its body as a plain answer under both addresses.
        return resp.blob().then(function (body) {
          var plain = function () { return new Response(body, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } }); };
          var jobs = [cache.put(new URL(url, self.location.origin).href, plain())];
          if (final.href !== new URL(url, self.location.origin).href) jobs.push(cache.put(final.href, plain()));
          return Promise.all(jobs);
        });
      }).catch(function () { return null; });
    }));
  });
}

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (v) { clearTimeout(timer); resolve(v); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

function fromStaticCache(url) {
  return caches.open(STATIC_CACHE).then(function (cache) { return cache.match(url); });
}

function offlineAnswer() {
  return new Response("", { status: 503, statusText: "offline" });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var path = url.pathname;

  if (path.indexOf("/static/") === 0) {
    event.respondWith(caches.open(STATIC_CACHE).then(function (cache) {
      var key = url.origin + path;
      return cache.match(key).then(function (hit) {
        var fresh = fetch(request).then(function (resp) {
          if (resp.ok) cache.put(key, resp.clone());
          return resp;
        });
        if (hit) { fresh.catch(function () { return null; }); return hit; }
        return fresh;
      });
    }).catch(offlineAnswer));
    return;
  }

  if (/^\/products\/\d+\/picture$/.test(path)) {
    event.respondWith(caches.open(PICTURES).then(function (cache) {
      return cache.match(request).then(function (hit) {
        return hit || fetch(request).then(function (resp) {
          if (resp.ok) cache.put(request, resp.clone());
          return resp;
        });
      });
    }).catch(offlineAnswer));
    return;
  }

  if (request.mode !== "navigate") return;

  if (RETURN_PAGE.test(path) || (path === "/scan" && url.searchParams.get("code"))) {
    event.respondWith(withTimeout(fetch(request), NAV_TIMEOUT_MS).catch(function () {
      return fromStaticCache(SHELL).then(function (hit) { return hit || offlineAnswer(); });
    }));
    return;
  }

  if (COUNTER_PAGES.test(path)) {
    event.respondWith(withTimeout(fetch(request), NAV_TIMEOUT_MS).then(function (resp) {
      if (resp.ok && !resp.redirected) {
        var copy = resp.clone();
        caches.open(PAGES).then(function (cache) { cache.put(request.url, copy); });
      }
      return resp;
    }).catch(function () {
      return caches.open(PAGES).then(function (cache) { return cache.match(request.url); }).then(function (hit) {
        if (hit) return hit;
        if (path === "/counter/outbox") return fromStaticCache(OUTBOX);
        if (path === "/scan" || path === "/home") return fromStaticCache(SHELL);
        return null;
      }).then(function (hit) { return hit || offlineAnswer(); });
    }));
  }
});
