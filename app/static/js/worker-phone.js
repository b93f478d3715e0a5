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

  /* Speech: a voice in the page's language reads the sentence; without one, any voice
     reads the figures digit by digit; with no voice at all the button says so. Voices load
     late in some browsers, so the button is labelled again when they arrive. */
  function voiceFor(lang) {
    var prefix = lang.slice(0, 2);
    return window.speechSynthesis.getVoices().filter(function (v) {
      return v.lang.replace("_", "-").indexOf(prefix) === 0;
    })[0];
  }

  function label(button) {
    var voices = window.speechSynthesis.getVoices();
    var text = button.querySelector(".speak-label");
    if (!text.getAttribute("data-label-own")) text.setAttribute("data-label-own", text.textContent);
    var lang = button.getAttribute("data-lang") || "zh-CN";
    if (voiceFor(lang)) {
      text.textContent = text.getAttribute("data-label-own");
      button.setAttribute("data-mode", "sentence");
      button.disabled = false;
    } else if (voices.length) {
      text.textContent = button.getAttribute("data-label-digits");
      button.setAttribute("data-mode", "digits");
      button.disabled = false;
    } else {
      text.textContent = button.getAttribute("data-label-none");
      button.setAttribute("data-mode", "none");
      button.disabled = true;
    }
  }

  function speak(button) {
    var synth = window.speechSynthesis;
    synth.cancel();
    var lang = button.getAttribute("data-lang") || "zh-CN";
    var voice = voiceFor(lang);
    var utterance;
    if (voice) {
      utterance = new SpeechSynthesisUtterance(button.getAttribute("data-speech"));
      utterance.lang = lang;
    } else {
      voice = synth.getVoices()[0];
      if (!voice) { label(button); return; }
      utterance = new SpeechSynthesisUtterance(button.getAttribute("data-digits"));
      utterance.lang = voice.lang;
    }
    try { utterance.voice = voice; } catch (e) { /* not a SpeechSynthesisVoice: the lang decides */ }
    utterance.rate = 0.9;
    synth.speak(utterance);
  }

  function setUpSpeech() {
    var buttons = document.querySelectorAll("button.speak");
    if (!buttons.length) return;
    if (!("speechSynthesis" in window)) {
      buttons.forEach(function (button) {
        button.hidden = false;
        button.disabled = true;
        button.querySelector(".speak-label").textContent = button.getAttribute("data-label-none");
        button.setAttribute("data-mode", "none");
      });
      return;
    }
    buttons.forEach(function (button) {
      button.hidden = false;
      label(button);
      button.addEventListener("click", function () { speak(button); });
    });
    var relabel = function () { buttons.forEach(label); };
    if (window.speechSynthesis.addEventListener) window.speechSynthesis.addEventListener("voiceschanged", relabel);
    window.setTimeout(relabel, 1500);
  }

  function start() { drawChart(); setUpSpeech(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
