// Invoices: the print button opens the browser's print dialog; the issue form keeps a running
// total of the orders chosen (the server computes the same on "Update the total", without script).
(function () {
  var button = document.getElementById("print-now");
  if (button) { button.addEventListener("click", function () { window.print(); }); }

  var total = document.getElementById("inv-total");
  if (!total) { return; }
  var count = document.getElementById("inv-count");
  var template = document.getElementById("inv-count-template").textContent;
  var recalc = document.getElementById("inv-recalc");
  if (recalc) { recalc.hidden = true; recalc.disabled = true; }  // the total follows the boxes here
  function groups(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
  function money(fen) {  // ¥1,234.50, as app/money.py format_money: whole fen, no float arithmetic on yuan
    var sign = fen < 0 ? "-" : "";
    fen = Math.abs(fen);
    var cents = String(fen % 100);
    return sign + "¥" + groups(String(Math.floor(fen / 100))) + "." + (cents.length < 2 ? "0" + cents : cents);
  }
  function update() {
    var fen = 0, pieces = 0, orders = 0;
    document.querySelectorAll(".inv-check").forEach(function (box) {
      if (box.checked) {
        fen += parseInt(box.getAttribute("data-fen"), 10);
        pieces += parseInt(box.getAttribute("data-pieces"), 10);
        orders += 1;
      }
    });
    total.textContent = money(fen);
    count.textContent = template.replace("{orders}", String(orders)).replace("{pieces}", groups(String(pieces)));
  }
  document.querySelectorAll(".inv-check").forEach(function (box) { box.addEventListener("change", update); });
  update();
})();
