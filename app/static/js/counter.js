/* The counter's return page and the list of records on the tablet, over the outbox
   (outbox.js). A tap on "save" is kept on the tablet first and answered at once with a local
   receipt; online, the page goes on to the server's receipt as soon as it has answered. */
(function () {
  "use strict";

  function ready(fn) {
    if (window.JijianOutbox) fn(window.JijianOutbox);
    else document.addEventListener("outbox:ready", function () { fn(window.JijianOutbox); });
  }

  function intOf(form, name) {
    var input = form.querySelector("[name=" + name + "]");
    var n = input ? parseInt(input.value, 10) : 0;
    return isNaN(n) ? 0 : n;
  }

  function clearErrors(form) {
    form.querySelectorAll(".error.js-error").forEach(function (p) { p.remove(); });
    form.querySelectorAll(".has-error.js-error-field").forEach(function (f) {
      f.classList.remove("has-error", "js-error-field");
    });
  }

  function showErrors(form, fields) {
    Object.keys(fields || {}).forEach(function (name) {
      var input = form.querySelector("[name=" + name + "]") || form.querySelector("[name=accepted]");
      var field = input.closest(".field") || form;
      field.classList.add("has-error", "js-error-field");
      var p = document.createElement("p");
      p.className = "error js-error";
      p.setAttribute("role", "alert");
      p.textContent = Array.isArray(fields[name]) ? fields[name].join(" ") : fields[name];
      field.appendChild(p);
    });
  }

  // --- the return page: the server's page, or the offline shell filled from IndexedDB ----

  var form = document.getElementById("return-form");
  if (form) ready(function (outbox) { returnPage(outbox, form); });

  function returnPage(outbox, form) {
    var receipt = document.getElementById("local-receipt");
    var isShell = form.getAttribute("data-shell") === "1";
    var info = {
      batch_id: parseInt(form.getAttribute("data-batch-id"), 10) || null,
      batch_code: form.getAttribute("data-batch-code") || "",
      worker: form.getAttribute("data-worker") || "",
      product: form.getAttribute("data-product") || ""
    };
    var photo = form.querySelector("input[type=file]");

    if (isShell) fillShell(outbox, form, info);
    else adjustToOutbox(outbox, form, info);

    form.addEventListener("submit", function (ev) {
      // A photo goes with the page's own form while the network is there; without it the
      // counts are kept on the tablet and the photo left out (the note says so).
      if (photo && photo.files && photo.files.length && navigator.onLine !== false) return;
      ev.preventDefault();
      if (!info.batch_id) return;
      clearErrors(form);
      var started = performance.now();
      var workDate = form.querySelector("[name=work_date]");
      var note = form.querySelector("[name=note]");
      outbox.tap({
        batch_id: info.batch_id, batch_code: info.batch_code, worker: info.worker, product: info.product,
        accepted: intOf(form, "accepted"), rejected: intOf(form, "rejected"), unused: intOf(form, "unused"),
        work_date: workDate && workDate.value ? workDate.value : null, note: note ? note.value : ""
      }).then(function (entry) {
        showReceipt(outbox, entry, performance.now() - started);
        waitForAnswer(outbox, entry);
      }, function (problem) {
        showErrors(form, problem.fields || { accepted: String(problem) });
      });
    });

    function showReceipt(outbox, entry, ms) {
      form.hidden = true;
      receipt.hidden = false;
      receipt.setAttribute("data-key", entry.key);
      receipt.setAttribute("data-tap-ms", String(Math.round(ms)));
      receipt.querySelector(".lr-worker").textContent = entry.worker;
      receipt.querySelector(".lr-product").textContent = entry.product;
      receipt.querySelector(".lr-code").textContent = entry.batch_code;
      receipt.querySelector(".lr-date").textContent = entry.work_date;
      receipt.querySelector(".lr-accepted").textContent = entry.accepted;
      receipt.querySelector(".lr-rejected").textContent = entry.rejected;
      receipt.querySelector(".lr-unused").textContent = entry.unused;
      receipt.querySelector(".lr-key").textContent = outbox.t("tapped_at", { t: outbox.shortTime(entry.recorded_at) });
      var state = receipt.querySelector(".local-receipt-state");
      state.textContent = outbox.t("not_sent");
      state.setAttribute("data-state", "pending");
      receipt.scrollIntoView({ block: "start" });
    }

    function waitForAnswer(outbox, entry) {
      outbox.on("sent", function (sent, answer) {
        if (sent.key !== entry.key) return;
        markReceipt(receipt, "sent", outbox.t("sent"));
        // Online, as before: the server's own receipt, printable.
        if (answer && answer.receipt_url && receipt.getAttribute("data-key") === entry.key) {
          window.location.assign(answer.receipt_url);
        }
      });
      markOnAttention(outbox, receipt, entry);
    }
  }

  // The local receipt's tag: "sent" (green) or "attention" (red), in words.
  function markReceipt(receipt, state, text) {
    var tag = receipt.querySelector(".local-receipt-state");
    tag.textContent = text;
    tag.setAttribute("data-state", state);
    tag.className = "tag " + (state === "sent" ? "tag-ok" : "tag-bad") + " local-receipt-state";
  }

  // When the server refuses this record, its receipt says why (it waits on the tablet).
  function markOnAttention(outbox, receipt, entry) {
    outbox.on("attention", function (refused, data) {
      if (refused.key !== entry.key) return;
      markReceipt(receipt, "attention", (data && data.error && data.error.message) || outbox.t("attention", { n: 1 }));
    });
  }

  // The server's page showed what was out when it was drawn; the tablet may hold more.
  function adjustToOutbox(outbox, form, info) {
    outbox.availableFor(info.batch_id).then(function (left) {
      var drawn = parseInt(form.getAttribute("data-outstanding"), 10);
      if (left === null || left >= drawn) return;
      setOutstanding(form, left);
    });
  }

  function setOutstanding(form, n) {
    form.setAttribute("data-outstanding", String(n));
    form.querySelectorAll("input.step-input").forEach(function (input) { input.max = String(n); });
    var shown = document.getElementById("outstanding");
    if (shown) shown.textContent = String(n);
    form.dispatchEvent(new CustomEvent("counter:filled"));
  }

  function fillShell(outbox, form, info) {
    var match = window.location.pathname.match(/\/batches\/(\d+)\/return$/);
    var code = new URLSearchParams(window.location.search).get("code");
    if (!match && !code) {
      document.getElementById("shell-scan").hidden = false;
      return;
    }
    if (code && code.indexOf("/batches/") >= 0) {
      var inUrl = code.match(/\/batches\/(\d+)/);
      match = inUrl;
      code = null;
    }
    outbox.snapshot().then(function (snap) {
      var found = outbox.findBatch(snap, match ? parseInt(match[1], 10) : null, code);
      if (!found) {
        document.getElementById("shell-unknown").hidden = false;
        document.getElementById("shell-scan").hidden = false;
        return;
      }
      var b = found.batch;
      info.batch_id = b.id;
      info.batch_code = b.code;
      info.worker = found.worker ? found.worker.name : "";
      info.product = found.product ? found.product.name : "";
      form.setAttribute("data-batch-id", String(b.id));
      form.setAttribute("data-batch-code", b.code);
      var head = document.getElementById("shell-head");
      head.querySelector(".shell-worker").textContent = info.worker;
      head.querySelector(".shell-product").textContent = info.product;
      head.querySelector(".shell-code").textContent = b.code;
      head.querySelector(".shell-due").textContent = b.due_date;
      head.querySelector(".shell-unit").textContent = found.product ? found.product.unit : "";
      var thumb = head.querySelector(".shell-thumb");
      if (found.product && found.product.picture) {
        var img = document.createElement("img");
        img.className = "thumb";
        img.width = 72;
        img.height = 72;
        img.alt = info.product;
        img.src = found.product.picture;
        thumb.replaceWith(img);
      } else {
        thumb.textContent = info.product.slice(0, 1);
      }
      head.hidden = false;
      form.hidden = false;
      var workDate = form.querySelector("[name=work_date]");
      if (workDate) { workDate.value = outbox.workshopDay(); workDate.max = outbox.workshopDay(); workDate.min = b.issued_on; }
      return outbox.availableFor(b.id).then(function (left) { setOutstanding(form, left === null ? b.outstanding : left); });
    });
  }

  // --- a correction: kept on the tablet like a return, sent with it in the order tapped ---

  var correctForm = document.getElementById("correct-form");
  if (correctForm) ready(function (outbox) { correctionPage(outbox, correctForm); });

  function correctionPage(outbox, form) {
    var receipt = document.getElementById("local-receipt");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearErrors(form);
      var reason = form.querySelector("[name=reason]");
      outbox.tap({
        batch_id: parseInt(form.getAttribute("data-batch-id"), 10),
        batch_code: form.getAttribute("data-batch-code"), worker: form.getAttribute("data-worker"),
        product: form.getAttribute("data-product"), corrects: parseInt(form.getAttribute("data-corrects"), 10),
        reason: reason ? reason.value.trim() : "",
        accepted: intOf(form, "accepted"), rejected: intOf(form, "rejected"), unused: intOf(form, "unused")
      }).then(function (entry) {
        form.closest(".card").hidden = true;
        receipt.hidden = false;
        receipt.setAttribute("data-key", entry.key);
        [["lr-worker", entry.worker], ["lr-product", entry.product], ["lr-code", entry.batch_code],
          ["lr-date", entry.work_date], ["lr-accepted", entry.accepted], ["lr-rejected", entry.rejected],
          ["lr-unused", entry.unused], ["lr-key", outbox.t("correction") + " · " + entry.reason]].forEach(function (pair) {
          receipt.querySelector("." + pair[0]).textContent = pair[1];
        });
        outbox.on("sent", function (sent) {
          if (sent.key === entry.key) window.location.assign(form.getAttribute("data-done-url"));
        });
        markOnAttention(outbox, receipt, entry);
      }, function (problem) {
        showErrors(form, problem.fields || { accepted: String(problem) });
      });
    });
  }

  // --- the list of records on this tablet -------------------------------------------------

  var attentionList = document.getElementById("outbox-attention-list");
  if (attentionList) ready(function (outbox) { listPage(outbox); });

  function listPage(outbox) {
    var pendingList = document.getElementById("outbox-pending-list");
    var status = document.getElementById("outbox-status");
    document.getElementById("outbox-send-now").addEventListener("click", function () { outbox.wakeUp(); });
    var editing = {};

    function render(c) {
      var mine = c.entries.filter(function (e) { return e.actor === outbox.actor; })
        .sort(function (a, b) { return a.seq - b.seq; });
      var attention = mine.filter(function (e) { return e.state === "attention"; });
      var pending = mine.filter(function (e) { return e.state !== "attention"; });
      if (!attention.some(function (e) { return editing[e.key]; })) {
        attentionList.replaceChildren.apply(attentionList, attention.map(function (e) { return attentionCard(e); }));
      }
      pendingList.replaceChildren.apply(pendingList, pending.map(function (e) { return pendingRow(e); }));
      if (!mine.length) status.textContent = outbox.t("empty");
      else status.textContent = outbox.needsSignIn() ? outbox.t("sign_in_again") : (navigator.onLine === false ? outbox.t("offline") : "");
      if (c.others) status.textContent += " " + outbox.t("other_user", { n: c.others });
    }

    function para(className, text) {
      var p = document.createElement("p");
      p.className = className;
      p.textContent = text;
      return p;
    }

    function line(e) {
      return para("outbox-line", outbox.t("batch") + " " + e.batch_code + " · " + e.worker + " · " + e.product + " · " +
        outbox.t("accepted") + " " + e.accepted + " · " + outbox.t("rejected") + " " + e.rejected + " · " +
        outbox.t("unused") + " " + e.unused + " · " + outbox.t("work_date") + " " + e.work_date + " · " +
        outbox.t("tapped_at", { t: outbox.shortTime(e.recorded_at) }));
    }

    // One record of the outbox: its line, in a box marked with its state (pending, attention).
    function entry(e, state) {
      var div = document.createElement("div");
      div.className = "outbox-entry outbox-entry-" + state;
      div.setAttribute("data-key", e.key);
      div.appendChild(line(e));
      return div;
    }

    function pendingRow(e) {
      var div = entry(e, "pending");
      if (e.attempts) div.appendChild(para("muted", outbox.t("retry", { n: e.attempts })));
      return div;
    }

    function numberInput(name, value) {
      var label = document.createElement("label");
      label.className = "field outbox-edit-field";
      var span = document.createElement("span");
      span.textContent = outbox.t(name);
      var input = document.createElement("input");
      input.type = "number";
      input.min = "0";
      input.inputMode = "numeric";
      input.name = name;
      input.value = String(value);
      input.className = "big-input";
      label.appendChild(span);
      label.appendChild(input);
      return label;
    }

    function attentionCard(e) {
      var div = entry(e, "attention");
      div.appendChild(para("error outbox-message", outbox.t("server_said") + " " + e.message));
      var edit = document.createElement("form");
      edit.className = "outbox-edit";
      edit.appendChild(numberInput("accepted", e.accepted));
      edit.appendChild(numberInput("rejected", e.rejected));
      edit.appendChild(numberInput("unused", e.unused));
      var send = document.createElement("button");
      send.type = "submit";
      send.className = "btn btn-primary outbox-resend";
      send.textContent = outbox.t("resend");
      edit.appendChild(send);
      edit.addEventListener("focusin", function () { editing[e.key] = true; });
      edit.addEventListener("submit", function (ev) {
        ev.preventDefault();
        delete editing[e.key];
        outbox.resend(e.key, {
          accepted: parseInt(edit.accepted.value, 10) || 0, rejected: parseInt(edit.rejected.value, 10) || 0,
          unused: parseInt(edit.unused.value, 10) || 0
        });
      });
      div.appendChild(edit);
      var drop = document.createElement("form");
      drop.className = "outbox-discard";
      var reasonLabel = document.createElement("label");
      reasonLabel.className = "field";
      var reasonText = document.createElement("span");
      reasonText.textContent = outbox.t("discard_reason");
      var reason = document.createElement("input");
      reason.name = "reason";
      reason.maxLength = 200;
      reasonLabel.appendChild(reasonText);
      reasonLabel.appendChild(reason);
      var dropButton = document.createElement("button");
      dropButton.type = "submit";
      dropButton.className = "btn btn-danger outbox-discard-button";
      dropButton.textContent = outbox.t("discard");
      drop.appendChild(reasonLabel);
      drop.appendChild(dropButton);
      drop.addEventListener("focusin", function () { editing[e.key] = true; });
      drop.addEventListener("submit", function (ev) {
        ev.preventDefault();
        outbox.discard(e.key, reason.value).then(function () { delete editing[e.key]; }, function (problem) {
          var p = drop.querySelector(".error") || document.createElement("p");
          p.className = "error";
          p.textContent = problem.fields ? problem.fields.reason : String(problem);
          drop.appendChild(p);
        });
      });
      div.appendChild(drop);
      if (e.discard) dropButton.disabled = true;
      return div;
    }

    outbox.onChange(render);
    outbox.counts(true).then(render);
  }
})();
