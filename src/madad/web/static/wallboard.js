// The wallboard follows the live stream: any live-contact event refreshes the panel (at most
// once a second), and a quiet board refreshes every 15 s so that waiting times keep growing.
(function () {
  "use strict";
  var board = document.getElementById("wallboard");
  if (!board) return;
  var url = board.getAttribute("data-panel"), pending = null;
  function refresh() {
    pending = null;
    fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) board.innerHTML = html; });
  }
  function soon() { if (!pending) pending = setTimeout(refresh, 1000); }
  setInterval(refresh, 15000);
  var backoff = 500;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/stream");
    ws.onopen = function () { backoff = 500; };
    ws.onmessage = function (msg) {
      var data = JSON.parse(msg.data);
      if (data.type === "event" && String(data.kind).indexOf("live.") === 0) soon();
    };
    ws.onclose = function () { setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 15000); };
  }
  connect();
})();
