/* Scanning the batch ticket's QR code with the tablet's camera, inside the app and with no
   network: the browser's own BarcodeDetector where it has one, else jsQR (vendor/jsqr,
   Apache-2.0) on frames drawn to a canvas. A ticket's code is the return page's address
   (/batches/N/return) or the batch code; either opens the return page, which the service
   worker serves offline. Loaded by outbox.js when the camera button is pressed. */
(function () {
  "use strict";

  var active = null;

  function target(text) {
    var m = String(text || "").match(/\/batches\/(\d+)\/return/);
    if (m) return "/batches/" + m[1] + "/return";
    var code = String(text || "").trim();
    if (/^[0-9A-Za-z]{4,12}$/.test(code)) return "/scan?code=" + encodeURIComponent(code.toUpperCase());
    return null;
  }

  function stop() {
    if (!active) return;
    active.running = false;
    if (active.stream) active.stream.getTracks().forEach(function (tr) { tr.stop(); });
    active.box.hidden = true;
    active.button.textContent = active.t("camera");
    active = null;
  }

  function start(button, opts) {
    if (active) { stop(); return; }
    var box = button.parentNode.querySelector(".scan-video");
    var video = box.querySelector("video");
    var msg = box.querySelector(".scan-msg");
    var canvas = document.createElement("canvas");
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    var detector = null;
    if ("BarcodeDetector" in window) {
      try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; }
    }
    active = { running: true, box: box, button: button, t: opts.t, stream: null };
    box.hidden = false;
    msg.textContent = "";
    button.textContent = opts.t("camera_stop");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (stream) {
      if (!active) { stream.getTracks().forEach(function (tr) { tr.stop(); }); return; }
      active.stream = stream;
      video.srcObject = stream;
      return video.play().then(function () { loop(); });
    }).catch(function () {
      msg.textContent = opts.t("camera_failed");
      if (active) { active.running = false; active.button.textContent = opts.t("camera"); active = null; }
    });

    function found(text) {
      var where = target(text);
      if (!where) { msg.textContent = opts.t("not_a_ticket"); return false; }
      stop();
      window.location.assign(where);
      return true;
    }

    function decodeFrame() {
      if (!video.videoWidth) return Promise.resolve(null);
      if (detector) {
        return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; },
          function () { detector = null; return null; });
      }
      var w = Math.min(video.videoWidth, 640);
      var h = Math.round(video.videoHeight * (w / video.videoWidth));
      canvas.width = w;
      canvas.height = h;
      ctx.drawImage(video, 0, 0, w, h);
      var image = ctx.getImageData(0, 0, w, h);
      var code = window.jsQR(image.data, w, h, { inversionAttempts: "dontInvert" });
      return Promise.resolve(code ? code.data : null);
    }

    function loop() {
      if (!active || !active.running) return;
      decodeFrame().then(function (text) {
        if (text && found(text)) return;
        setTimeout(loop, 120);
      });
    }
  }

  window.JijianScanner = { start: start, stop: stop, target: target };
})();
