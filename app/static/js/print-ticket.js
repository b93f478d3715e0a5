/* The ticket page of "issue the batch and print the ticket": the print dialog opens at once;
   when it closes, the batch's page follows. */
(function () {
  "use strict";
  var me = document.currentScript;
  var then = me && me.getAttribute("data-then");
  window.addEventListener("load", function () {
    window.print();
    if (then) window.location.href = then;
  });
})();
