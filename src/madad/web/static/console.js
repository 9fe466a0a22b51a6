// Madad agent console: CSRF for htmx, toasts, live updates over the stream, collision notices.
// No framework; htmx swaps server-rendered fragments. Runs under a strict CSP (no eval).
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var me = document.body.dataset.userId;

  document.body.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf;
  });

  var toastBox = document.getElementById("toast");
  var toastTimer = null;
  function toast(message, isError) {
    if (!toastBox) return;
    toastBox.textContent = message;
    toastBox.className = isError ? "error" : "";
    toastBox.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toastBox.hidden = true; }, 5000);
  }
  document.body.addEventListener("madad:toast", function (e) { toast(e.detail.message, false); });
  document.body.addEventListener("htmx:responseError", function (e) {
    var detail = "Request failed";
    try { detail = JSON.parse(e.detail.xhr.responseText).detail || detail; } catch (_) { /* not JSON */ }
    toast(detail, true);
  });

  // Reply / note tabs.
  document.querySelectorAll('[role="tab"]').forEach(function (tab) {
    tab.addEventListener("click", function () {
      document.querySelectorAll('[role="tab"]').forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
      });
    });
  });

  var live = document.querySelector("[data-live]");
  var ticketId = live && live.dataset.ticketId ? parseInt(live.dataset.ticketId, 10) : null;
  var pending = null;
  function changed() {
    // Coalesce bursts of events into one refresh; keep a selection for bulk actions intact.
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      if (document.querySelector('input[name="ticket_ids"]:checked')) return;
      htmx.trigger(document.body, ticketId ? "madad:ticket-changed" : "madad:changed");
    }, ticketId ? 200 : 300);
  }
  var typing = false, typingTimer = null;
  function stopTyping() { if (typing) { typing = false; announce("viewing"); } }

  document.body.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (!e.detail.successful || !form || !form.hasAttribute) return;
    if (form.hasAttribute("data-reset-on-success")) { form.reset(); stopTyping(); }
    if (form.id === "bulk") {
      document.querySelectorAll('input[name="ticket_ids"]:checked').forEach(function (b) { b.checked = false; });
      changed();
    }
  });

  if (!live || !me) return;

  // --- the stream ---------------------------------------------------------------------------
  var lastId = null, ws = null, backoff = 500;
  function send(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); }
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/stream";
    var params = [];
    if (lastId) params.push("last_event_id=" + lastId);
    if (ticketId) params.push("ticket_id=" + ticketId);
    ws = new WebSocket(url + (params.length ? "?" + params.join("&") : ""));
    ws.onopen = function () { backoff = 500; };
    ws.onmessage = function (msg) {
      var data = JSON.parse(msg.data);
      if (data.type === "event") {
        if (!lastId || data.id > lastId) lastId = data.id;
        changed();
      } else if (data.type === "ready") {
        live.dataset.streamReady = "1";
        if (ticketId) announce(typing ? "typing" : "viewing");
        if (data.replayed) changed();
      } else if (data.type === "presence") {
        presence(data);
      }
    };
    ws.onclose = function () {
      live.dataset.streamReady = "";
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }
  connect();

  // --- collision detection: who else is viewing or typing on this ticket ----------------------
  var others = {}; // user id -> {name, state, seen}
  var box = document.getElementById("presence");
  function announce(state) { if (ticketId) send({ type: "presence", ticket_id: ticketId, state: state }); }
  function render() {
    if (!box) return;
    var now = Date.now(), parts = [];
    Object.keys(others).forEach(function (id) {
      var o = others[id];
      if (o.state === "left" || now - o.seen > 20000) { delete others[id]; return; }
      var template = o.state === "typing" ? box.dataset.typing : box.dataset.viewing;
      parts.push(template.replace("{name}", o.name));
    });
    box.textContent = parts.join(" · ");
    box.hidden = parts.length === 0;
  }
  function presence(p) {
    if (p.ticket_id !== ticketId || String(p.user_id) === String(me)) return;
    var known = others[p.user_id];
    others[p.user_id] = { name: p.name, state: p.state, seen: Date.now() };
    if (!known && p.state !== "left") announce(typing ? "typing" : "viewing"); // let the newcomer see us
    render();
  }
  if (!ticketId) return;
  document.querySelectorAll("[data-typing]").forEach(function (area) {
    area.addEventListener("input", function () {
      if (!typing) { typing = true; announce("typing"); }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(stopTyping, 4000);
    });
  });
  setInterval(function () { announce(typing ? "typing" : "viewing"); render(); }, 8000);
  window.addEventListener("pagehide", function () { announce("left"); });
})();
