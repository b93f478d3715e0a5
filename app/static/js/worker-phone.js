/* The worker's phone: a 30-day bar chart (Chart.js, vendored) and a button that reads the
   earnings aloud with the browser's speech synthesis. Works without either: the page
   already shows the figures in big digits. */
(function () {
  "use strict";

  function drawChart() {
    var canvas = document.getElementById("earn-chart");
    var source = document.getElementById("earn-data");
    if (!canvas || !source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var labels = data.labels.map(function (d) { var p = d.split("-"); return (+p[1]) + "/" + (+p[2]); });
    var values = data.values.map(Number);  // display only: the figures themselves come from the server
    var last = values.length - 1;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [{
          data: values,
          backgroundColor: values.map(function (_v, i) { return i === last ? "#c2410c" : "#fdba74"; }),
          borderRadius: 3, maxBarThickness: 18
        }]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) { return data.currency + data.values[ctx.dataIndex]; } } }
        },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 6, font: { size: 13 } } },
          y: { beginAtZero: true, ticks: { maxTicksLimit: 4, font: { size: 13 },
               callback: function (v) { return data.currency + v; } } }
        }
      }
    });
  }

  function setUpSpeech() {
    var buttons = document.querySelectorAll("button.speak");
    if (!("speechSynthesis" in window) || !buttons.length) return;
    buttons.forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var synth = window.speechSynthesis;
        synth.cancel();
        var lang = button.getAttribute("data-lang") || "zh-CN";
        var utterance = new SpeechSynthesisUtterance(button.getAttribute("data-speech"));
        utterance.lang = lang;
        utterance.rate = 0.9;
        var prefix = lang.slice(0, 2);
        var voice = synth.getVoices().filter(function (v) { return v.lang.replace("_", "-").indexOf(prefix) === 0; })[0];
        if (voice) utterance.voice = voice;
        synth.speak(utterance);
      });
    });
  }

  function start() { drawChart(); setUpSpeech(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
