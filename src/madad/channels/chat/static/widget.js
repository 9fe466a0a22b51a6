/* Madad chat widget: <script src="https://desk.example.com/widget.js?inbox=KEY" async></script>
   No dependencies. Lives in a shadow root so the host page's styles and ours never mix.
   Everything the visitor or an agent wrote is set as text, never as HTML. */
(function () {
  "use strict";
  var C = __MADAD_CONFIG__;
  if (window.MadadChat) return;
  var KEY = "madad-chat:" + C.inbox;
  var lang = (document.documentElement.lang || navigator.language || "en").toLowerCase().indexOf("ur") === 0 ? "ur" : "en";
  var S = C.strings[lang] || C.strings.en;
  var store = load();
  var ws = null, backoff = 500, lastId = 0, state = "none", ready = false;
  var pending = {}; // client id -> {frame, li}
  var typingOn = false, typingTimer = null, root, el = {};

  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { return {}; } }
  function save() { try { localStorage.setItem(KEY, JSON.stringify(store)); } catch (e) { /* private mode */ } }
  function t(name, vars) {
    return (S[name] || name).replace(/%\((\w+)\)s/g, function (_, k) { return vars && vars[k] != null ? vars[k] : ""; });
  }
  function uid() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function make(tag, attrs, text) {
    var n = document.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) n.setAttribute(k, attrs[k]);
    if (text != null) n.textContent = text;
    return n;
  }

  var CSS = ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,sans-serif;font-size:15px}" +
    ".launch{position:fixed;bottom:20px;inset-inline-end:20px;z-index:2147483000;background:#1f5aa6;color:#fff;border:0;border-radius:24px;padding:12px 18px;cursor:pointer;box-shadow:0 2px 8px #0004}" +
    ".panel{position:fixed;bottom:80px;inset-inline-end:20px;z-index:2147483000;width:min(360px,calc(100vw - 24px));height:min(520px,calc(100vh - 100px));background:#fff;color:#1b1f24;border:1px solid #c9d1db;border-radius:10px;display:flex;flex-direction:column;box-shadow:0 4px 16px #0003}" +
    ".panel[hidden],[hidden]{display:none!important}header{display:flex;justify-content:space-between;align-items:center;padding:10px 12px;background:#1f5aa6;color:#fff;border-radius:10px 10px 0 0}" +
    "header h2{margin:0;font-size:16px;color:#fff}header button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer;line-height:1}" +
    ".status{padding:6px 12px;background:#eef4fb;font-size:13px;min-height:1.5em}.log{flex:1;overflow:auto;list-style:none;margin:0;padding:8px 12px}" +
    ".log li{margin:6px 0;max-width:85%;padding:6px 10px;border-radius:8px;background:#f1f3f6;overflow-wrap:anywhere;white-space:pre-wrap}" +
    ".log li.visitor{margin-inline-start:auto;background:#dbe8f6}.log .who{display:block;font-size:12px;color:#4a5563;font-weight:600}" +
    ".log li.pending{opacity:.6}form{padding:8px 12px;border-top:1px solid #e3e7ec;display:grid;gap:6px}label{font-size:13px;font-weight:600}" +
    "input,textarea{width:100%;padding:6px;border:1px solid #8a94a3;border-radius:6px;font:inherit}textarea{resize:vertical;min-height:48px}" +
    ".row{display:flex;gap:6px;justify-content:space-between}button.primary{background:#1f5aa6;color:#fff;border:0;border-radius:6px;padding:8px 14px;cursor:pointer}" +
    "button.plain{background:#fff;border:1px solid #8a94a3;border-radius:6px;padding:8px 12px;cursor:pointer}.err{color:#b3261e;font-size:13px;padding:0 12px}" +
    ":focus-visible{outline:3px solid #f0a500;outline-offset:2px}.typing{font-size:12px;color:#4a5563;padding:0 12px;min-height:1.3em}";

  function build() {
    var host = make("div", { id: "madad-chat" });
    document.body.appendChild(host);
    root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    root.appendChild(make("style", {}, CSS));
    var wrap = make("div", { lang: lang, dir: lang === "ur" ? "rtl" : "ltr", "class": "madad-chat" });
    root.appendChild(wrap);
    el.launch = make("button", { type: "button", "class": "launch", "aria-expanded": "false", "aria-controls": "mc-panel" }, S.title);
    el.panel = make("section", { id: "mc-panel", "class": "panel", role: "region", "aria-labelledby": "mc-title", hidden: "" });
    var head = make("header");
    head.appendChild(make("h2", { id: "mc-title" }, S.title));
    el.close = make("button", { type: "button", "aria-label": S.close }, "×");
    head.appendChild(el.close);
    el.panel.appendChild(head);
    el.status = make("div", { "class": "status", role: "status", "aria-live": "polite" });
    el.log = make("ol", { "class": "log", role: "log", "aria-live": "polite", "aria-label": S.log, tabindex: "0" });
    el.typing = make("div", { "class": "typing", "aria-live": "polite" });
    el.err = make("div", { "class": "err", role: "alert" });
    el.panel.appendChild(el.status);
    el.panel.appendChild(el.log);
    el.panel.appendChild(el.typing);
    el.panel.appendChild(el.err);

    el.pre = make("form", { "class": "pre", novalidate: "" });
    el.pre.appendChild(make("p", {}, S.intro));
    el.name = field(el.pre, "mc-name", S.name, make("input", { id: "mc-name", autocomplete: "name", maxlength: "200" }));
    el.email = field(el.pre, "mc-email", S.email, make("input", { id: "mc-email", type: "email", autocomplete: "email", maxlength: "320" }));
    el.first = field(el.pre, "mc-first", S.question, make("textarea", { id: "mc-first", rows: "3", required: "" }));
    el.pre.appendChild(make("button", { type: "submit", "class": "primary" }, S.start));

    el.compose = make("form", { "class": "compose", hidden: "" });
    el.text = field(el.compose, "mc-text", S.message, make("textarea", { id: "mc-text", rows: "2" }));
    var row = make("div", { "class": "row" });
    el.leave = make("button", { type: "button", "class": "plain" }, S.leave);
    row.appendChild(el.leave);
    row.appendChild(make("button", { type: "submit", "class": "primary" }, S.send));
    el.compose.appendChild(row);

    el.again = make("form", { "class": "again", hidden: "" });
    el.again.appendChild(make("button", { type: "submit", "class": "primary" }, S.new_chat));

    el.panel.appendChild(el.pre);
    el.panel.appendChild(el.compose);
    el.panel.appendChild(el.again);
    wrap.appendChild(el.panel);
    wrap.appendChild(el.launch);

    el.launch.addEventListener("click", function () { toggle(el.panel.hidden); });
    el.close.addEventListener("click", function () { toggle(false); });
    el.panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
    el.pre.addEventListener("submit", function (e) { e.preventDefault(); start(); });
    el.compose.addEventListener("submit", function (e) { e.preventDefault(); sendText(); });
    el.again.addEventListener("submit", function (e) { e.preventDefault(); show("none"); el.first.focus(); });
    el.leave.addEventListener("click", function () { send({ type: "leave" }); });
    [el.text, el.first].forEach(function (area) {
      area.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); if (area === el.text) sendText(); else start(); }
      });
    });
    el.text.addEventListener("input", function () {
      if (!typingOn) { typingOn = true; send({ type: "typing", on: true }); }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(stopTyping, 3000);
    });
    if (store.open) toggle(true);
  }
  function field(form, id, label, input) {
    form.appendChild(make("label", { "for": id }, label));
    form.appendChild(input);
    return input;
  }
  function toggle(open) {
    el.panel.hidden = !open;
    el.launch.setAttribute("aria-expanded", open ? "true" : "false");
    store.open = open; save();
    if (open) { var f = state === "none" ? el.first : (state === "queued" || state === "active" ? el.text : null); if (f) f.focus(); }
    else el.launch.focus();
  }
  function stopTyping() { if (typingOn) { typingOn = false; send({ type: "typing", on: false }); } }

  function send(frame) { if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; } return false; }
  function tooLong(text) {
    if (text.length > C.max) { el.err.textContent = t("too_long", { max: C.max }); return true; }
    return false;
  }
  function start() {
    var text = el.first.value;
    if (!text.trim() || tooLong(text)) return;
    var frame = { type: "start", id: uid(), text: text, name: el.name.value, email: el.email.value, language: lang };
    el.err.textContent = "";
    queue(frame, text);
    el.first.value = "";
  }
  function sendText() {
    var text = el.text.value;
    if (!text.trim() || tooLong(text)) return;
    el.err.textContent = "";
    stopTyping();
    queue({ type: "message", id: uid(), text: text }, text);
    el.text.value = "";
    el.text.focus();
  }
  function queue(frame, text) {
    var li = line({ from: "visitor", text: text, client_id: frame.id }, true);
    pending[frame.id] = { frame: frame, li: li };
    send(frame);
  }
  function line(m, isPending) {
    var li = make("li", { "class": m.from + (isPending ? " pending" : "") });
    li.appendChild(make("span", { "class": "who" }, m.from === "visitor" ? S.you : (m.name || S.agent)));
    li.appendChild(document.createTextNode(m.text));
    if (m.id) li.setAttribute("data-id", m.id);
    el.log.appendChild(li);
    el.log.scrollTop = el.log.scrollHeight;
    return li;
  }
  function message(m) {
    lastId = Math.max(lastId, m.id);
    if (el.log.querySelector('[data-id="' + m.id + '"]')) return;
    var p = m.client_id && pending[m.client_id];
    if (p) { p.li.classList.remove("pending"); p.li.setAttribute("data-id", m.id); delete pending[m.client_id]; }
    else line(m, false);
    if (m.from === "agent") el.typing.textContent = "";
  }
  function show(s, info) {
    state = s;
    el.pre.hidden = s !== "none";
    el.compose.hidden = !(s === "queued" || s === "active");
    el.again.hidden = !(s === "ended" || s === "abandoned");
    var text = "";
    if (s === "queued" && info) {
      text = t("waiting", { position: info.position });
      if (info.wait_seconds != null) text += " " + (info.wait_seconds < 60 ? S.wait_soon : t("wait", { minutes: Math.round(info.wait_seconds / 60) }));
    } else if (s === "active" && info) text = t("connected", { name: info.agent || S.agent });
    else if (s === "ended") text = S.ended;
    else if (s === "abandoned") text = S.abandoned;
    el.status.textContent = text;
  }

  function connect() {
    var base = C.base.replace(/^http/, "ws");
    var q = "?inbox=" + encodeURIComponent(C.inbox) + "&after=" + lastId + (store.token ? "&token=" + encodeURIComponent(store.token) : "");
    ws = new WebSocket(base + "/api/v1/chat/visitor" + q);
    ws.onmessage = function (e) {
      var d;
      try { d = JSON.parse(e.data); } catch (x) { return; }
      if (d.type === "hello") { store.token = d.token; save(); }
      else if (d.type === "message") message(d);
      else if (d.type === "state") show(d.state, d);
      else if (d.type === "ready") {
        ready = true; backoff = 500;
        root.host.setAttribute("data-ready", "1");
        el.status.removeAttribute("data-offline");
        for (var id in pending) if (Object.prototype.hasOwnProperty.call(pending, id)) send(pending[id].frame);
      } else if (d.type === "ack") {
        var p = pending[d.client_id];
        if (p) { p.li.classList.remove("pending"); p.li.setAttribute("data-id", d.id); lastId = Math.max(lastId, d.id); delete pending[d.client_id]; }
      } else if (d.type === "typing") el.typing.textContent = d.on ? t("typing", { name: d.name || S.agent }) : "";
      else if (d.type === "error") {
        el.err.textContent = d.detail;
        var q2 = d.client_id && pending[d.client_id];
        if (q2) { q2.li.parentNode.removeChild(q2.li); delete pending[d.client_id]; }
      }
    };
    ws.onclose = function (e) {
      ready = false;
      root.host.removeAttribute("data-ready");
      if (e.code === 4404) return;
      el.status.setAttribute("data-offline", "1");
      el.status.textContent = S.reconnecting;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  function boot() { build(); show("none"); connect(); }
  window.MadadChat = {
    open: function () { toggle(true); },
    reconnect: function () { if (ws) ws.close(); }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
