// Small page behaviours that were inline handlers, so the Content-Security-Policy can refuse
// every inline script: [data-action=print] prints, [data-action=back] goes back, and a
// select[data-autosubmit] submits its form when changed.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-action]") : null;
    if (!target) return;
    if (target.dataset.action === "print") {
      event.preventDefault();
      window.print();
    } else if (target.dataset.action === "back" && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
  });
})();
