/* The counter's offline outbox (rule 13), on every supervisor and admin page.

   Every return tapped on the tablet is first written to IndexedDB with the idempotency key
   made at that moment, then replayed to the server one at a time, in the order tapped, on
   page load, when the network comes back, on a timer and right after a tap (not only by
   Background Sync, which many tablets lack). An entry leaves the outbox only when the server
   has answered it: 201, or the stored answer for its key (same key and body: the first
   answer again). 5xx, 429 and network errors keep it, with back-off. 409/422/404 move it to
   "needs attention" with the server's message, until the supervisor changes it and sends it
   again (a new key, the refusal audited with it) or discards it with a reason (audited too).
   Nothing is ever evicted. The badge shows the counts in data-outbox-pending and
   data-outbox-attention. Plain JavaScript, no library. */
(function () {
  "use strict";

  var badge = document.getElementById("outbox-badge");
  if (!badge || !window.indexedDB) return;

  var T = {};
  try { T = JSON.parse(document.getElementById("counter-strings").textContent); } catch (e) { T = {}; }
  function t(name, fields) {
    var text = T[name] || name;
    Object.keys(fields || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(fields[k])); });
    return text;
  }

  var ACTOR = badge.getAttribute("data-actor");
  var URLS = {
    session: badge.getAttribute("data-session-url"),
    snapshot: badge.getAttribute("data-snapshot-url"),
    bulk: badge.getAttribute("data-bulk-url"),
    discard: badge.getAttribute("data-discard-url"),
    sw: badge.getAttribute("data-sw"),
    static: badge.getAttribute("data-static")
  };
  var TIMEZONE = badge.getAttribute("data-timezone") || "Asia/Shanghai";
  var TIMER_MS = 5000;
  var listeners = [];

  // --- IndexedDB: a small promise wrapper -------------------------------------------------

  var dbPromise = null;
  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var req = indexedDB.open("jijian-counter", 2);
      req.onupgradeneeded = function (ev) {
        var db = req.result;
        var outbox, sent;
        if (ev.oldVersion < 1) {
          outbox = db.createObjectStore("outbox", { keyPath: "key" });
          outbox.createIndex("seq", "seq");
          sent = db.createObjectStore("sent", { keyPath: "key" });
          db.createObjectStore("meta", { keyPath: "name" });
        } else {
          outbox = req.transaction.objectStore("outbox");
          sent = req.transaction.objectStore("sent");
        }
        // A tap reads only its batch's entries and the badge counts by index: a tap stays as
        // quick with hundreds waiting as with none.
        if (ev.oldVersion < 2) {
          outbox.createIndex("batch_id", "batch_id");
          outbox.createIndex("state", "state");
          outbox.createIndex("actor", "actor");
          sent.createIndex("batch_id", "batch_id");
        }
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    return dbPromise;
  }

  function tx(stores, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(stores, mode);
        var result;
        transaction.oncomplete = function () { resolve(result); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error || new Error("aborted")); };
        result = work(transaction);
      });
    });
  }

  function all(store, indexName, query) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var source = db.transaction(store, "readonly").objectStore(store);
        if (indexName) source = source.index(indexName);
        var req = query === undefined ? source.getAll() : source.getAll(query);
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    });
  }

  function countOf(store, indexName, query) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var source = db.transaction(store, "readonly").objectStore(store);
        if (indexName) source = source.index(indexName);
        var req = query === undefined ? source.count() : source.count(query);
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    });
  }

  function getMeta(name) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var req = db.transaction("meta", "readonly").objectStore("meta").get(name);
        req.onsuccess = function () { resolve(req.result ? req.result.value : null); };
        req.onerror = function () { reject(req.error); };
      });
    });
  }

  function putMeta(name, value) {
    return tx(["meta"], "readwrite", function (x) { x.objectStore("meta").put({ name: name, value: value }); });
  }

  // --- helpers ----------------------------------------------------------------------------

  // A Wi-Fi that drops without a reset leaves a request hanging: give up after a while (the
  // entry stays and is sent again with its key, so a late answer never makes a duplicate).
  var FETCH_TIMEOUT_MS = 10000;
  function fetchWithin(url, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.cache = "no-store";
    if (!window.AbortController) return fetch(url, options);
    var ctl = new AbortController();
    options.signal = ctl.signal;
    var timer = setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS);
    return fetch(url, options).then(function (resp) {
      // The body too must arrive in time.
      return resp.text().then(function (text) {
        clearTimeout(timer);
        return { status: resp.status, ok: resp.ok, text: text, json: function () { return JSON.parse(text); } };
      });
    }, function (err) { clearTimeout(timer); throw err; });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // The workshop's day and an ISO time with the workshop's offset (rule 12: a return keeps the
  // day it was counted), whatever the tablet's own time zone.
  function workshopParts(date) {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: TIMEZONE, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
    }).formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }
  function workshopDay(date) {
    var p = workshopParts(date || new Date());
    return p.year + "-" + p.month + "-" + p.day;
  }
  function isoWithOffset(date) {
    var p = workshopParts(date);
    var asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    var offset = Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
    var sign = offset >= 0 ? "+" : "-";
    var abs = Math.abs(offset);
    return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute + ":" + p.second +
      sign + ("0" + Math.floor(abs / 60)).slice(-2) + ":" + ("0" + (abs % 60)).slice(-2);
  }
  function shortTime(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    var p = workshopParts(d);
    return p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
  }

  function notify() {
    return counts(listeners.length > 0).then(function (c) {
      renderBadge(c);
      listeners.forEach(function (fn) { try { fn(c); } catch (e) { /* a page's own view */ } });
      return c;
    });
  }

  // --- the snapshot of what the counter needs offline -------------------------------------

  function snapshot() { return getMeta("snapshot"); }

  function refreshSnapshot() {
    return fetchWithin(URLS.snapshot).then(function (resp) {
      if (!resp.ok) throw new Error("snapshot " + resp.status);
      return resp.json();
    }).then(function (data) {
      data.fetched_at = new Date().toISOString();
      data.actor = ACTOR;
      // Sent records the new figures already count are no longer needed to correct them.
      return tx(["meta", "sent"], "readwrite", function (x) {
        x.objectStore("meta").put({ name: "snapshot", value: data });
        var store = x.objectStore("sent");
        store.openCursor().onsuccess = function (ev) {
          var cursor = ev.target.result;
          if (!cursor) return;
          if ((cursor.value.return_id || 0) <= data.max_return_id) cursor.delete();
          cursor.continue();
        };
      }).then(function () { cachePictures(data); return notify(); });
    }).catch(function () { return null; });
  }

  function cachePictures(data) {
    if (!window.caches) return;
    caches.open("jijian-pictures").then(function (cache) {
      (data.products || []).forEach(function (p) {
        if (!p.picture) return;
        cache.match(p.picture).then(function (hit) { if (!hit) cache.add(p.picture).catch(function () {}); });
      });
    });
  }

  function findBatch(snap, id, code) {
    if (!snap) return null;
    var wanted = code ? String(code).trim().toUpperCase() : null;
    for (var i = 0; i < snap.batches.length; i++) {
      var b = snap.batches[i];
      if ((id && b.id === id) || (wanted && b.code.toUpperCase() === wanted)) {
        var worker = null, product = null;
        snap.workers.forEach(function (w) { if (w.id === b.worker_id) worker = w; });
        snap.products.forEach(function (p) { if (p.id === b.product_id) product = p; });
        return { batch: b, worker: worker, product: product };
      }
    }
    return null;
  }

  // What is still out for a batch as this tablet knows it: the snapshot's figure, less what
  // waits in the outbox (pending or in flight) and what was sent since the snapshot was read.
  function availableFor(batchId, exceptKey) {
    return Promise.all([snapshot(), all("outbox", "batch_id", batchId), all("sent", "batch_id", batchId)]).then(function (r) {
      var snap = r[0];
      var found = findBatch(snap, batchId);
      if (!found) return null;
      var left = found.batch.outstanding;
      r[1].forEach(function (e) {
        if (e.batch_id === batchId && e.state === "pending" && e.key !== exceptKey) {
          left -= e.accepted + e.rejected + e.unused;
        }
      });
      r[2].forEach(function (s) {
        if (s.batch_id === batchId && s.return_id > snap.max_return_id) left -= s.pieces;
      });
      return Math.max(left, 0);
    });
  }

  // --- tapping a return -------------------------------------------------------------------

  var seqCounter = 0;
  function nextSeq() {
    seqCounter = (seqCounter + 1) % 1000;
    return Date.now() * 1000 + seqCounter;
  }

  /* Keep one return on the tablet. ``input``: batch_id, batch_code, worker, product, accepted,
     rejected, unused, work_date?, note?, corrects?, reason?. Resolves with the entry, or
     rejects with {fields} when the tablet can already tell it is wrong (rule 10). */
  function tap(input) {
    var now = new Date();
    var entry = {
      key: newKey(), seq: nextSeq(), actor: ACTOR, state: "pending",
      batch_id: input.batch_id, batch_code: input.batch_code || "", worker: input.worker || "",
      product: input.product || "",
      accepted: input.accepted | 0, rejected: input.rejected | 0, unused: input.unused | 0,
      work_date: input.corrects ? "" : (input.work_date || workshopDay(now)), recorded_at: isoWithOffset(now),
      note: input.note || "", corrects: input.corrects || null, reason: input.reason || "",
      attempts: 0, next_try_at: 0, message: "", fields: null, resend_of: input.resend_of || null
    };
    var problem = localProblem(entry);
    if (problem) return Promise.reject({ fields: problem });
    var check = entry.corrects ? Promise.resolve(null) : availableFor(entry.batch_id);
    return check.then(function (left) {
      var pieces = entry.accepted + entry.rejected + entry.unused;
      if (left !== null && pieces > left) {
        throw { fields: { accepted: t("over_local", { n: left }) }, available: left };
      }
      return tx(["outbox"], "readwrite", function (x) { x.objectStore("outbox").add(entry); });
    }).then(function () {
      notify();
      if (navigator.onLine !== false) setTimeout(replay, 0);  // offline: the "online" event sends it
      return entry;
    });
  }

  function localProblem(entry) {
    if (!entry.corrects) {
      if (entry.accepted < 0 || entry.rejected < 0 || entry.unused < 0) return { accepted: t("enter_one") };
      if (entry.accepted + entry.rejected + entry.unused === 0) return { accepted: t("enter_one") };
    } else {
      if (!entry.reason) return { reason: t("reason_needed") };
      if (entry.accepted === 0 && entry.rejected === 0 && entry.unused === 0) return { accepted: t("enter_one") };
    }
    if (entry.work_date > workshopDay(new Date())) return { work_date: t("work_date") };
    return null;
  }

  // --- replay -----------------------------------------------------------------------------

  var session = null;  // {actor, csrf_token} from the server, fetched before each run
  var needsSignIn = false;
  var running = null;

  function fetchSession() {
    return fetchWithin(URLS.session).then(function (resp) {
      if (resp.status === 401) { needsSignIn = true; return null; }
      if (!resp.ok) throw new Error("session " + resp.status);
      needsSignIn = false;
      session = resp.json();
      return session;
    });
  }

  function withLock(fn) {
    // One replay at a time across the tablet's tabs (each entry is safe twice anyway: the key).
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("jijian-outbox-replay", { ifAvailable: true }, function (lock) {
        return lock ? fn() : null;
      });
    }
    return fn();
  }

  var again = false;
  function replay() {
    // A tap while a run is under way is sent by another run right after it, not in 5 s.
    if (running) { again = true; return running; }
    running = withLock(runReplay).catch(function () { return null; }).then(function (result) {
      running = null;
      if (again) { again = false; return replay(); }
      return result;
    });
    return running;
  }

  function runReplay() {
    return all("outbox", "seq").then(function (entries) {
      var now = Date.now();
      var mine = entries.filter(function (e) { return e.actor === ACTOR && e.state === "pending"; });
      if (!mine.length) return refreshIfStale();
      if (mine[0].next_try_at > now) return null;  // in the order tapped: the first waits, all wait
      return fetchSession().then(function (s) {
        if (!s) return notify();
        if (s.actor !== ACTOR) { needsSignIn = true; return notify(); }
        return sendInOrder(mine, 0).then(function (sentAny) {
          return sentAny ? refreshSnapshot() : notify();
        });
      });
    }).catch(function () { return notify(); });
  }

  function refreshIfStale() {
    return snapshot().then(function (snap) {
      var age = snap && snap.fetched_at ? Date.now() - new Date(snap.fetched_at).getTime() : Infinity;
      if (!snap || snap.actor !== ACTOR || age > 60000) return refreshSnapshot();
      return notify();
    });
  }

  // The queue goes in chunks of CHUNK, in the order tapped; the server records each entry on
  // its own (its key, its transaction) and answers each, so one round trip serves many.
  var CHUNK = 50;
  function sendInOrder(entries, i, sentAny) {
    if (i >= entries.length) return Promise.resolve(sentAny);
    var chunk = entries.slice(i, i + CHUNK);
    return sendChunk(chunk, false).then(function (outcome) {
      if (outcome.stop) return sentAny || outcome.sent;
      return sendInOrder(entries, i + CHUNK, sentAny || outcome.sent);
    });
  }

  function sendChunk(chunk, csrfRetried) {
    var payload = { entries: chunk.map(function (e) { return { key: e.key, batch_id: e.batch_id, body: bodyOf(e) }; }) };
    return post(URLS.bulk, null, payload).then(function (resp) {
      var data = null;
      try { data = resp.text ? JSON.parse(resp.text) : null; } catch (e) { data = null; }
      var code = data && data.error ? data.error.code : null;
      if (resp.status === 400 && code === "csrf_failed" && !csrfRetried) {
        return fetchSession().then(function (s) { return s ? sendChunk(chunk, true) : { stop: true }; });
      }
      if (resp.status !== 200 || !data || !Array.isArray(data.results)) {
        if (resp.status === 401) needsSignIn = true;
        return backOff(chunk[0], code || resp.status).then(function () { return { stop: true }; });
      }
      return settleResults(chunk, data.results);
    }, function () {
      return backOff(chunk[0], "network").then(function () { return { stop: true }; });
    });
  }

  function settleResults(chunk, results) {
    var sent = false;
    var step = function (i) {
      if (i >= chunk.length) return Promise.resolve({ sent: sent, stop: false });
      var entry = chunk[i];
      var r = results[i];
      if (!r || r.key !== entry.key) {
        return backOff(entry, "no answer").then(function () { return { sent: sent, stop: true }; });
      }
      return outcomeOf(entry, r.status, r.body).then(function (outcome) {
        if (outcome === "stop") return { sent: sent, stop: true };
        if (outcome === "sent") sent = true;
        return step(i + 1);
      });
    };
    return step(0);
  }

  function outcomeOf(entry, status, data) {
    var code = data && data.error ? data.error.code : null;
    if ((status === 201 || status === 200) && data && data.id) return settle(entry, data);
    if (status === 401 || status === 403) { needsSignIn = status === 401; return backOff(entry, code || status); }
    if (status === 409 || status === 422 || status === 404 || (status === 400 && code !== "csrf_failed")) {
      return needsAttention(entry, data, status);
    }
    return backOff(entry, status);  // 5xx, 429, not tried, anything unexpected: keep and retry
  }

  function bodyOf(entry) {
    var body = {
      accepted: entry.accepted, rejected: entry.rejected, unused: entry.unused,
      recorded_at: entry.recorded_at, key: entry.key
    };
    if (entry.work_date) body.work_date = entry.work_date;
    if (entry.note) body.note = entry.note;
    if (entry.corrects) { body.corrects = entry.corrects; body.reason = entry.reason; }
    if (entry.resend_of) body.resend_of = entry.resend_of;
    return body;
  }

  function post(url, key, body) {
    var headers = { "Content-Type": "application/json", "X-CSRFToken": session.csrf_token };
    if (key) headers["Idempotency-Key"] = key;
    return fetchWithin(url, { method: "POST", headers: headers, body: JSON.stringify(body) });
  }

  function settle(entry, answer) {
    return tx(["outbox", "sent"], "readwrite", function (x) {
      x.objectStore("outbox").delete(entry.key);
      x.objectStore("sent").put({
        key: entry.key, batch_id: entry.batch_id, return_id: answer.id,
        pieces: entry.corrects ? 0 : entry.accepted + entry.rejected + entry.unused,
        receipt_url: answer.receipt_url || null, answered_at: new Date().toISOString()
      });
    }).then(function () { emit("sent", entry, answer); return "sent"; });
  }

  function needsAttention(entry, data, status) {
    var err = (data && data.error) || {};
    var fields = err.fields || null;
    var message = err.message || String(status);
    if (fields) {
      Object.keys(fields).forEach(function (k) {
        var v = Array.isArray(fields[k]) ? fields[k].join(" ") : fields[k];
        if (message.indexOf(v) < 0) message += " " + v;
      });
    }
    return tx(["outbox"], "readwrite", function (x) {
      var store = x.objectStore("outbox");
      store.get(entry.key).onsuccess = function (ev) {
        var row = ev.target.result;
        if (!row) return;
        row.state = "attention";
        row.status = status;
        row.code = err.code || null;
        row.message = message;
        row.fields = fields;
        store.put(row);
      };
    }).then(function () { emit("attention", entry, data); return "attention"; });
  }

  function backOff(entry, why) {
    return tx(["outbox"], "readwrite", function (x) {
      var store = x.objectStore("outbox");
      store.get(entry.key).onsuccess = function (ev) {
        var row = ev.target.result;
        if (!row) return;
        row.attempts = (row.attempts || 0) + 1;
        // 1 s, 2 s, 4 s … at most 30 s, with jitter; the "online" event and a tap try at once.
        var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(row.attempts - 1, 5)));
        row.next_try_at = Date.now() + delay * (0.75 + Math.random() * 0.5);
        row.last_error = String(why);
        store.put(row);
      };
    }).then(function () { return "stop"; });
  }

  function wakeUp() {
    // The network is back (or a person asked): the first entry's back-off no longer applies.
    return tx(["outbox"], "readwrite", function (x) {
      var store = x.objectStore("outbox");
      store.openCursor().onsuccess = function (ev) {
        var cursor = ev.target.result;
        if (!cursor) return;
        if (cursor.value.next_try_at) { cursor.value.next_try_at = 0; cursor.update(cursor.value); }
        cursor.continue();
      };
    }).then(replay);
  }

  var eventHandlers = {};
  function emit(kind, entry, data) {
    (eventHandlers[kind] || []).forEach(function (fn) { try { fn(entry, data); } catch (e) { /* view */ } });
  }
  function on(kind, fn) { (eventHandlers[kind] = eventHandlers[kind] || []).push(fn); }

  // --- needs attention: change and send again, or discard with a reason -------------------

  function resend(key, changes) {
    return tx(["outbox"], "readwrite", function (x) {
      var store = x.objectStore("outbox");
      store.get(key).onsuccess = function (ev) {
        var row = ev.target.result;
        if (!row || row.state !== "attention") return;
        // A changed record is a new decision: a new key, the refusal it answers kept with it.
        var fresh = Object.assign({}, row, changes || {});
        fresh.resend_of = {
          key: row.key, accepted: row.accepted, rejected: row.rejected, unused: row.unused,
          message: row.message, status: row.status || null
        };
        fresh.key = newKey();
        fresh.state = "pending";
        fresh.attempts = 0;
        fresh.next_try_at = 0;
        fresh.message = "";
        fresh.fields = null;
        store.delete(row.key);
        store.add(fresh);
      };
    }).then(function () { notify(); return replay(); });
  }

  // A discard is itself sent to the server (audited) before the entry leaves the tablet.
  function discard(key, reason) {
    reason = (reason || "").trim();
    if (!reason) return Promise.reject({ fields: { reason: t("reason_required") } });
    return tx(["outbox"], "readwrite", function (x) {
      var store = x.objectStore("outbox");
      store.get(key).onsuccess = function (ev) {
        var row = ev.target.result;
        if (!row) return;
        row.discard = { reason: reason, key: newKey() };
        store.put(row);
      };
    }).then(function () { return sendDiscards(); });
  }

  function sendDiscards() {
    return all("outbox", "seq").then(function (entries) {
      var todo = entries.filter(function (e) { return e.discard && e.actor === ACTOR; });
      if (!todo.length) return notify();
      return fetchSession().then(function (s) {
        if (!s) return notify();
        return todo.reduce(function (p, e) {
          return p.then(function () {
            var entry = {
              batch_code: e.batch_code, accepted: e.accepted, rejected: e.rejected, unused: e.unused,
              work_date: e.work_date, recorded_at: e.recorded_at, message: e.message, key: e.key
            };
            return post(URLS.discard, e.discard.key, {
              key: e.key, batch_id: e.batch_id, reason: e.discard.reason, entry: entry
            }).then(function (resp) {
              if (resp.status === 201 || resp.status === 200) {
                return tx(["outbox"], "readwrite", function (x) { x.objectStore("outbox").delete(e.key); });
              }
              return null;
            }, function () { return null; });
          });
        }, Promise.resolve()).then(notify);
      });
    }).catch(function () { return notify(); });
  }

  // --- the badge --------------------------------------------------------------------------

  // The badge's figures by index; ``withEntries`` also reads every entry (the list page).
  function counts(withEntries) {
    return Promise.all([countOf("outbox", "state", "pending"), countOf("outbox", "state", "attention"),
      countOf("outbox"), countOf("outbox", "actor", ACTOR), snapshot(),
      withEntries ? all("outbox") : Promise.resolve(null)]).then(function (r) {
      return { pending: r[0], attention: r[1], others: r[2] - r[3], snapshot: r[4], entries: r[5] || [] };
    });
  }

  function renderBadge(c) {
    badge.setAttribute("data-outbox-pending", String(c.pending));
    badge.setAttribute("data-outbox-attention", String(c.attention));
    badge.classList.toggle("has-pending", c.pending > 0);
    badge.classList.toggle("has-attention", c.attention > 0);
    badge.classList.toggle("is-offline", navigator.onLine === false);
    badge.querySelector(".outbox-pending").textContent = c.pending || c.attention ? t("pending", { n: c.pending }) : t("all_sent");
    badge.querySelector(".outbox-attention").textContent = c.attention ? " · " + t("attention", { n: c.attention }) : "";
    var age = badge.querySelector(".outbox-age");
    var when = c.snapshot && c.snapshot.fetched_at;
    age.textContent = when ? t("data_age", { t: shortTime(when) }) : t("no_data");
    var title = [];
    if (needsSignIn) title.push(t("sign_in_again"));
    if (c.others) title.push(t("other_user", { n: c.others }));
    if (navigator.onLine === false) title.push(t("offline"));
    badge.title = title.join(" ");
  }

  // --- sign-out: warn while records wait; they stay on the tablet -------------------------

  document.querySelectorAll("form[action$='/logout']").forEach(function (form) {
    var confirmed = false;
    form.addEventListener("submit", function (ev) {
      if (confirmed) return;
      ev.preventDefault();
      counts(true).then(function (c) {
        var waiting = c.entries.filter(function (e) { return e.actor === ACTOR; }).length;
        if (!waiting) { confirmed = true; return forget().then(function () { form.submit(); }); }
        showSignOutWarning(form, waiting, function () {
          confirmed = true;
          forget().then(function () { form.submit(); });
        });
      });
    });
  });

  function forget() {
    // The pages and figures kept for this account go; the outbox stays (rule 13).
    var jobs = [tx(["meta"], "readwrite", function (x) { x.objectStore("meta").delete("snapshot"); })];
    if (window.caches) jobs.push(caches.delete("jijian-pages"));
    return Promise.all(jobs).catch(function () { return null; });
  }

  function showSignOutWarning(form, n, proceed) {
    var box = document.getElementById("signout-warning");
    if (!box) {
      box = document.createElement("div");
      box.id = "signout-warning";
      box.className = "flash flash-warning signout-warning";
      box.setAttribute("role", "alertdialog");
      var text = document.createElement("p");
      var go = document.createElement("button");
      go.type = "button";
      go.className = "btn btn-danger";
      go.id = "signout-anyway";
      go.textContent = t("signout_anyway");
      var stay = document.createElement("button");
      stay.type = "button";
      stay.className = "btn btn-primary";
      stay.textContent = t("stay");
      stay.addEventListener("click", function () { box.hidden = true; });
      box.appendChild(text);
      box.appendChild(stay);
      box.appendChild(go);
      var main = document.getElementById("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    box.querySelector("p").textContent = t("signout_warn", { n: n });
    var anyway = box.querySelector("#signout-anyway");
    var fresh = anyway.cloneNode(true);
    anyway.parentNode.replaceChild(fresh, anyway);
    fresh.addEventListener("click", proceed);
    box.hidden = false;
    fresh.focus();
  }

  // --- the service worker and the camera --------------------------------------------------

  if ("serviceWorker" in navigator && URLS.sw) {
    navigator.serviceWorker.register(URLS.sw, { scope: "/" }).then(function (reg) {
      // Keep the offline return page of the signed-in account fresh in the worker's cache.
      var ping = function () {
        var worker = reg.active || navigator.serviceWorker.controller;
        if (worker) worker.postMessage({ type: "refresh-shell" });
      };
      if (reg.active) ping(); else navigator.serviceWorker.ready.then(ping);
    }).catch(function () { /* no offline pages on this browser; the outbox still works */ });
  }

  document.querySelectorAll("[data-scan-camera]").forEach(function (button) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      loadScript(URLS.static + "vendor/jsqr/jsQR.js")
        .then(function () { return loadScript(URLS.static + "js/scanner.js"); })
        .then(function () { window.JijianScanner.start(button, { t: t, find: lookUpCode }); });
    }, { once: false });
  });

  var loaded = {};
  function loadScript(src) {
    if (loaded[src]) return loaded[src];
    loaded[src] = new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
    return loaded[src];
  }

  function lookUpCode(code) {
    return snapshot().then(function (snap) { return findBatch(snap, null, code); });
  }

  // --- start ------------------------------------------------------------------------------

  window.JijianOutbox = {
    tap: tap, replay: replay, wakeUp: wakeUp, resend: resend, discard: discard, counts: counts,
    snapshot: snapshot, refreshSnapshot: refreshSnapshot, findBatch: findBatch, availableFor: availableFor,
    onChange: function (fn) { listeners.push(fn); }, on: on, t: t, actor: ACTOR, workshopDay: workshopDay,
    shortTime: shortTime, sendDiscards: sendDiscards, needsSignIn: function () { return needsSignIn; }
  };
  window.addEventListener("online", wakeUp);
  window.addEventListener("offline", notify);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) replay(); });
  setInterval(function () { replay(); sendDiscards(); }, TIMER_MS);
  notify().then(function () { replay(); sendDiscards(); });
  document.dispatchEvent(new CustomEvent("outbox:ready"));
})();
