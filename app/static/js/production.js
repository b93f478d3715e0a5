/* Production pages: large +/- steppers, the one-tap return button, the order form's product list.
   Plain JavaScript, no library; the pages work without it. */
(function () {
  "use strict";

  function intOf(input) {
    var n = parseInt(input.value, 10);
    return isNaN(n) ? 0 : n;
  }

  function clamp(input, n) {
    if (input.min !== "" && n < parseInt(input.min, 10)) n = parseInt(input.min, 10);
    if (input.max !== "" && n > parseInt(input.max, 10)) n = parseInt(input.max, 10);
    return n;
  }

  // A date a tap away: the day buttons set the date input; the button of the day shown is pressed.
  document.querySelectorAll("[data-day-field]").forEach(function (box) {
    var input = box.querySelector("input.day-input");
    var buttons = box.querySelectorAll(".day-pick");
    function mark() {
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-day") === input.value)); });
    }
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        input.value = button.getAttribute("data-day");
        mark();
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
    input.addEventListener("change", mark);
    input.addEventListener("input", mark);
  });

  document.querySelectorAll("[data-stepper]").forEach(function (box) {
    var input = box.querySelector("input");
    box.querySelectorAll("[data-step]").forEach(function (button) {
      button.addEventListener("click", function () {
        input.value = clamp(input, intOf(input) + parseInt(button.getAttribute("data-step"), 10));
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  });

  // Return form: accepted follows what is still out less rejected and unused, until the
  // supervisor changes accepted by hand; the button says what will be saved.
  var form = document.getElementById("return-form");
  if (form) {
    // Read at each use: the offline return page (counter.js) fills it in after loading.
    var outstanding = parseInt(form.getAttribute("data-outstanding"), 10);
    form.addEventListener("counter:filled", function () {
      outstanding = parseInt(form.getAttribute("data-outstanding"), 10);
      acceptedByHand = false;
      accepted.value = Math.max(0, outstanding - intOf(rejected) - intOf(unused));
      label();
    });
    var accepted = form.querySelector("input[name=accepted]");
    var rejected = form.querySelector("input[name=rejected]");
    var unused = form.querySelector("input[name=unused]");
    var button = document.getElementById("save-return");
    var acceptedByHand = false;

    var label = function () {
      var a = intOf(accepted), r = intOf(rejected), u = intOf(unused);
      var text;
      if (a === outstanding && r === 0 && u === 0) {
        text = form.getAttribute("data-label-all").replace("__N__", a);
      } else {
        text = form.getAttribute("data-label-mixed").replace("__A__", a).replace("__R__", r).replace("__U__", u);
      }
      button.textContent = text;
      button.classList.toggle("btn-warn", a + r + u > outstanding);
    };
    // Setting .value from script fires no event, so any input here came from the supervisor.
    accepted.addEventListener("input", function () {
      acceptedByHand = true;
      label();
    });
    [rejected, unused].forEach(function (input) {
      input.addEventListener("input", function () {
        if (!acceptedByHand) {
          accepted.value = Math.max(0, outstanding - intOf(rejected) - intOf(unused));
        }
        label();
      });
    });
    label();
  }

  // Order form: show only the chosen client's products.
  var orderForm = document.getElementById("order-form");
  if (orderForm) {
    var owners = JSON.parse(orderForm.getAttribute("data-product-clients") || "{}");
    var client = orderForm.querySelector("select[name=client_id]");
    var product = orderForm.querySelector("select[name=product_id]");
    var filter = function () {
      var chosen = client.value;
      Array.prototype.forEach.call(product.options, function (opt) {
        var owner = owners[opt.value];
        opt.hidden = !!(chosen !== "0" && owner && String(owner) !== chosen);
      });
      var current = product.options[product.selectedIndex];
      if (current && current.hidden) product.value = "0";
    };
    product.addEventListener("change", function () {
      var owner = owners[product.value];
      if (owner && client.value === "0") { client.value = String(owner); filter(); }
    });
    client.addEventListener("change", filter);
    filter();
  }
})();
