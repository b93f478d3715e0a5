/* Station dashboard charts (Chart.js, served by the app). The same numbers are in tables
   for screen readers next to each canvas. */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var narrow = window.matchMedia("(max-width: 640px)").matches;
    Chart.defaults.font.size = narrow ? 13 : 15;
    Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    Chart.defaults.color = "#44403c";
    function bar(id, series, color, ticksLimit) {
      var canvas = document.getElementById(id);
      if (!canvas || !series.values.length) { return; }
      canvas.setAttribute("aria-hidden", "true");
      new Chart(canvas, {
        type: "bar",
        data: { labels: series.labels, datasets: [{ label: series.label, data: series.values, backgroundColor: color, borderRadius: 4 }] },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: false } },
          scales: {
            x: { grid: { display: false }, ticks: { autoSkip: true, maxTicksLimit: ticksLimit, maxRotation: 0 } },
            y: { beginAtZero: true, ticks: { precision: 0 } }
          }
        }
      });
      canvas.dataset.rendered = "1";
    }
    bar("chart-pieces", data.pieces, "#c2410c", narrow ? 6 : 10);
    bar("chart-bands", data.bands, "#1d4ed8", narrow ? 5 : 12);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
}());
