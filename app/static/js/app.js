/* Loaded on every page. A table wider than a phone scrolls inside its box: such a box gets a
   tab stop, so it can be scrolled with the keyboard too (WCAG 2.1.1). The open navigation
   menu closes when another opens or on Escape. */
(function () {
  "use strict";

  function markScrollables() {
    document.querySelectorAll("main table, main .table-wrap, main .doc-meta, main .doc-lines").forEach(function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible";
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-scroll-focus", "1");
      } else if (!scrolls && el.getAttribute("data-scroll-focus") === "1") {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroll-focus");
      }
    });
  }

  function menus() {
    var groups = document.querySelectorAll("details.navgroup");
    groups.forEach(function (group) {
      group.addEventListener("toggle", function () {
        if (!group.open) return;
        groups.forEach(function (other) { if (other !== group) other.open = false; });
      });
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Escape") return;
      groups.forEach(function (group) {
        if (group.open) { group.open = false; group.querySelector("summary").focus(); }
      });
    });
  }

  /* The worker search reloads the issue page: what was typed in the form goes with it. */
  function keepTypedValues() {
    document.querySelectorAll("input[data-copy-from]").forEach(function (hidden) {
      hidden.form.addEventListener("submit", function () {
        var source = document.querySelector(".issue-form [name=" + hidden.getAttribute("data-copy-from") + "]");
        if (source) hidden.value = source.value;
      });
    });
  }

  function printButtons() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function start() {
    printButtons();
    keepTypedValues();
    markScrollables();
    menus();
    window.addEventListener("resize", markScrollables);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
