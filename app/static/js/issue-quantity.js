/* The issue form's quantity follows the worker tapped: what she can finish by the due date at
   the share of her pace a plan counts on (data-share100), less what she holds that competes
   with it (data-held, "due:load100" by due date: due by then in full, due later for the share
   of its days by then), within her share of the suggested split and what is left
   (app/services/planning.py can_finish and competing_load100, the same sums in whole
   hundredths). A quantity typed
   by hand is never overwritten. Without script the server's default stands (the chosen
   worker's when the page was opened for her, else the station's middle worker's). */
(function () {
  "use strict";
  var box = document.getElementById("issue-quantity");
  if (!box) return;
  var form = box.closest("form");
  var quantity = form.querySelector("input[name=quantity]");
  var due = form.querySelector("input[name=due_date]");
  var why = document.getElementById("quantity-why");
  var byHand = box.getAttribute("data-typed") === "1";
  var available = parseInt(box.getAttribute("data-available"), 10);
  var today = box.getAttribute("data-today");

  function daysTo(iso) {  // today to a day, both included (whole days, no time zone involved)
    var ms = Date.parse(iso + "T00:00:00Z") - Date.parse(today + "T00:00:00Z");
    return isNaN(ms) ? 0 : Math.round(ms / 86400000) + 1;
  }

  function daysLeft() { return due.value ? Math.max(daysTo(due.value), 0) : 0; }

  function competing(held, days) {  // planning.competing_load100, in hundredths of pieces
    var total = 0;
    held.split(" ").forEach(function (item) {
      if (!item) return;
      var at = item.indexOf(":"), own = daysTo(item.slice(0, at)), load = parseInt(item.slice(at + 1), 10);
      total += (own <= days || own <= 1) ? load : Math.floor(load * days / own);  // due first, or overdue: in full
    });
    return total;
  }

  function text(id, values) {  // plain text throughout: a name is never parsed as markup
    var t = document.getElementById(id).content.textContent;
    Object.keys(values).forEach(function (k) { t = t.split("{" + k + "}").join(values[k]); });
    return t;
  }

  function follow() {
    var radio = form.querySelector("input[name=worker_id]:checked");
    if (byHand || !radio || !radio.hasAttribute("data-pace100")) return;
    var pace = parseInt(radio.getAttribute("data-pace100"), 10);
    var share = parseInt(box.getAttribute("data-share100"), 10);  // the share of a pace a plan counts on
    var days = daysLeft();
    var load = competing(radio.getAttribute("data-held") || "", days);
    var n = Math.max(Math.floor((pace * share * days - load * 100) / 10000), 0);
    n = Math.min(n, Math.max(available, 0));
    if (radio.hasAttribute("data-plan")) n = Math.min(n, parseInt(radio.getAttribute("data-plan"), 10));
    var name = radio.closest("label").querySelector(".pick-name").textContent;
    quantity.value = n > 0 ? String(n) : "";
    why.textContent = n > 0
      ? text("quantity-why-pace", { name: name, pace: radio.getAttribute("data-pace"), n: String(n) })
      : text("quantity-why-full", { name: name });
  }

  quantity.addEventListener("input", function () { byHand = true; });
  form.querySelectorAll("input[name=worker_id]").forEach(function (r) { r.addEventListener("change", follow); });
  due.addEventListener("change", follow);
})();
