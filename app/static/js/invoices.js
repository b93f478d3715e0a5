// Invoices: the print button opens the browser's print dialog.
(function () {
  var button = document.getElementById("print-now");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
