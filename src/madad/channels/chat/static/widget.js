/* Madad chat widget: <script src="https://desk.example.com/widget.js?inbox=KEY" async></script>
   No dependencies. Lives in a shadow root so the host page's styles and ours never mix.
   Everything the visitor or an agent wrote is set as text, never as HTML.
   Elements of the host page with data-madad-chat="open" or "callback" open the chat or the
   callback form (they are unhidden once the widget can serve them). */
(function () {
  "use strict";
  var C = __MADAD_CONFIG__;
  if (window.MadadChat) return;
  // A website that knows its user signs who they are on its server (see the chat README):
  // window.MadadChatSettings = {identity: {user_id, email, name}, signature}.
  var O = window.MadadChatSettings || {}, ID = O.identity && O.signature ? O.identity : null;
  var KEY = "madad-chat:" + C.inbox;
  var lang = (document.documentElement.lang || navigator.language || "en").toLowerCase().indexOf("ur") === 0 ? "ur" : "en";
  var S = C.strings[lang] || C.strings.en;
  var nav = navigator.language || "en";
  var LOC = lang === "ur" ? "ur-PK" : (nav.toLowerCase().indexOf("en") === 0 ? nav : "en");
  var store = load();
  var ws = null, backoff = 500, lastId = 0, state = "none", ready = false;
  var pending = {}; // client id -> {frame, li}
  var typingOn = false, typingTimer = null, root, el = {};
  var hours = null; // the live queue's status: open now, next opening, open spans
  var view = "chat"; // chat | callback | done
  var agentId = 0, seenSent = 0, seenBy = 0; // read receipts, both ways
  var uploadToken = null; // what lets this visitor send a file into the open chat
  var rating = null, ratingShown = false; // the ended chat's rating
  var bot = null; // what the answer bot offered
  var MIN = 60000;

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
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function fmt(ms, withDay) {
    var o = { hour: "2-digit", minute: "2-digit" };
    if (withDay) o.weekday = "short";
    try { return new Intl.DateTimeFormat(LOC, o).format(new Date(ms)); } catch (e) { return new Date(ms).toLocaleString(); }
  }
  function span(a, b) { return fmt(a, true) + "–" + fmt(b, new Date(a).toDateString() !== new Date(b - 1).toDateString()); }

  var CSS = ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,sans-serif;font-size:15px}" +
    ".launch{position:fixed;bottom:20px;inset-inline-end:20px;z-index:2147483000;background:#1f5aa6;color:#fff;border:0;border-radius:24px;padding:12px 18px;cursor:pointer;box-shadow:0 2px 8px #0004}" +
    ".panel{position:fixed;bottom:80px;inset-inline-end:20px;z-index:2147483000;width:min(360px,calc(100vw - 24px));height:min(560px,calc(100vh - 100px));background:#fff;color:#1b1f24;border:1px solid #c9d1db;border-radius:10px;display:flex;flex-direction:column;box-shadow:0 4px 16px #0003}" +
    ".panel[hidden],[hidden]{display:none!important}header{display:flex;justify-content:space-between;align-items:center;padding:10px 12px;background:#1f5aa6;color:#fff;border-radius:10px 10px 0 0}" +
    "header h2{margin:0;font-size:16px;color:#fff}header button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer;line-height:1}" +
    ".hours{padding:6px 12px;font-size:13px;border-bottom:1px solid #e3e7ec}.hours summary{cursor:pointer}.hours ul{margin:4px 0;padding-inline-start:18px}" +
    ".avail::before{content:'';display:inline-block;width:8px;height:8px;border-radius:50%;background:#8a94a3;margin-inline-end:6px}.avail.on::before{background:#1e8e3e}" +
    ".status{padding:6px 12px;background:#eef4fb;font-size:13px;min-height:1.5em}.log{flex:1;overflow:auto;list-style:none;margin:0;padding:8px 12px}" +
    ".log li{margin:6px 0;max-width:85%;padding:6px 10px;border-radius:8px;background:#f1f3f6;overflow-wrap:anywhere;white-space:pre-wrap}" +
    ".log li.visitor{margin-inline-start:auto;background:#dbe8f6}.log .who{display:block;font-size:12px;color:#4a5563;font-weight:600}" +
    ".log li.pending{opacity:.6}form,.done{padding:8px 12px;border-top:1px solid #e3e7ec;display:grid;gap:6px;overflow:auto}label{font-size:13px;font-weight:600}" +
    "input,textarea,select{width:100%;padding:6px;border:1px solid #8a94a3;border-radius:6px;font:inherit}textarea{resize:vertical;min-height:48px}[aria-invalid=true]{border-color:#b3261e;outline:1px solid #b3261e}" +
    ".row{display:flex;gap:6px;justify-content:space-between}button.primary{background:#1f5aa6;color:#fff;border:0;border-radius:6px;padding:8px 14px;cursor:pointer}" +
    "button.plain{background:#fff;border:1px solid #8a94a3;border-radius:6px;padding:8px 12px;cursor:pointer}.err{color:#b3261e;font-size:13px;padding:0 12px}p{margin:0}" +
    ".face{display:inline-flex;align-items:center;justify-content:center;width:22px;height:22px;border-radius:50%;background:#1f5aa6;color:#fff;font-size:10px;margin-inline-end:6px;vertical-align:middle;object-fit:cover}" +
    ".log .face{float:left}[dir=rtl] .log .face{float:right}.log li::after{content:'';display:block;clear:both}input[type=file]{border:0;padding:2px 0;font-size:13px}.log a.file{display:block;color:#1f5aa6;margin-top:4px}" +
    "fieldset{border:0;margin:0;padding:0;display:grid;gap:4px}legend{font-weight:600;margin-bottom:4px}label.score{font-weight:400;display:flex;gap:6px;align-items:center}label.score input{width:auto}.rated{padding:8px 12px}" +
    ".human{margin:6px 12px}.log li.bot{background:#fff7e6;border:1px solid #f0d9a8}.log li.bot ul{margin:4px 0;padding-inline-start:18px}.log li.bot li{margin:2px 0;padding:0;background:none;max-width:none}.seen{display:block;font-size:11px;color:#4a5563;text-align:end}:focus-visible{outline:3px solid #f0a500;outline-offset:2px}.typing{font-size:12px;color:#4a5563;padding:0 12px;min-height:1.3em}";

  function styles() {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet]; // also where the page's CSP forbids inline styles
    } catch (e) { root.appendChild(make("style", {}, CSS)); }
  }
  function build() {
    var host = make("div", { id: "madad-chat" });
    document.body.appendChild(host);
    root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    styles();
    var wrap = make("div", { lang: lang, dir: lang === "ur" ? "rtl" : "ltr", "class": "madad-chat" });
    root.appendChild(wrap);
    el.launch = make("button", { type: "button", "class": "launch", "aria-expanded": "false", "aria-controls": "mc-panel" }, S.title);
    el.panel = make("section", { id: "mc-panel", "class": "panel", role: "region", "aria-labelledby": "mc-title", hidden: "" });
    var head = make("header");
    head.appendChild(make("h2", { id: "mc-title" }, S.title));
    el.close = make("button", { type: "button", "aria-label": S.close }, "×");
    head.appendChild(el.close);
    el.panel.appendChild(head);

    el.hours = make("div", { "class": "hours", hidden: "" });
    el.avail = make("p", { "class": "avail" });
    el.hours.appendChild(el.avail);
    var det = make("details");
    det.appendChild(make("summary", {}, S.hours));
    el.week = make("ul", { "aria-label": S.hours });
    det.appendChild(el.week);
    el.hours.appendChild(det);
    el.panel.appendChild(el.hours);

    el.status = make("div", { "class": "status", role: "status", "aria-live": "polite" });
    el.log = make("ol", { "class": "log", role: "log", "aria-live": "polite", "aria-label": S.log, tabindex: "0" });
    el.typing = make("div", { "class": "typing", "aria-live": "polite" });
    el.err = make("div", { "class": "err", role: "alert" });
    [el.status, el.log, el.typing, el.err].forEach(function (n) { el.panel.appendChild(n); });

    el.pre = make("form", { "class": "pre", novalidate: "" });
    el.intro = el.pre.appendChild(make("p", {}, S.intro));
    el.name = field(el.pre, "mc-name", S.name, make("input", { id: "mc-name", name: "name", autocomplete: "name", maxlength: "200" }));
    el.email = field(el.pre, "mc-email", S.email, make("input", { id: "mc-email", name: "email", type: "email", autocomplete: "email", maxlength: "320" }));
    el.first = field(el.pre, "mc-first", S.question, make("textarea", { id: "mc-first", rows: "3", required: "" }));
    el.pre.appendChild(make("button", { type: "submit", "class": "primary" }, S.start));

    // Outside the posted hours: a message answered by email.
    el.off = make("form", { "class": "off", novalidate: "", hidden: "" });
    el.off.appendChild(make("p", {}, S.offline_intro));
    field(el.off, "mc-off-name", S.name, make("input", { id: "mc-off-name", name: "name", autocomplete: "name", maxlength: "200", required: "" }));
    field(el.off, "mc-off-email", S.email, make("input", { id: "mc-off-email", name: "email", type: "email", autocomplete: "email", maxlength: "320", required: "" }));
    field(el.off, "mc-off-text", S.your_message, make("textarea", { id: "mc-off-text", name: "text", rows: "4", maxlength: String(C.max), required: "" }));
    el.off.appendChild(make("button", { type: "submit", "class": "primary" }, S.send_message));

    el.cb = make("form", { "class": "cb", novalidate: "", hidden: "" });
    el.cb.appendChild(make("p", {}, S.callback_intro));
    field(el.cb, "mc-cb-name", S.name, make("input", { id: "mc-cb-name", name: "name", autocomplete: "name", maxlength: "200", required: "" }));
    field(el.cb, "mc-cb-phone", S.phone, make("input", { id: "mc-cb-phone", name: "phone", type: "tel", autocomplete: "tel", maxlength: "40", required: "" }));
    el.slot = field(el.cb, "mc-cb-when", S.when, make("select", { id: "mc-cb-when", name: "window_start", required: "" }));
    var cbRow = make("div", { "class": "row" });
    el.cbBack = make("button", { type: "button", "class": "plain" }, S.back);
    cbRow.appendChild(el.cbBack);
    cbRow.appendChild(make("button", { type: "submit", "class": "primary" }, S.request));
    el.cb.appendChild(cbRow);

    el.done = make("div", { "class": "done", hidden: "" });
    el.doneText = make("p", { role: "status", tabindex: "-1" });
    el.done.appendChild(el.doneText);
    el.doneBack = make("button", { type: "button", "class": "plain" }, S.back);
    el.done.appendChild(el.doneBack);

    el.compose = make("form", { "class": "compose", hidden: "" });
    el.text = field(el.compose, "mc-text", S.message, make("textarea", { id: "mc-text", rows: "2" }));
    el.file = field(el.compose, "mc-file", S.attach, make("input", { id: "mc-file", type: "file", accept: C.accept }));
    var row = make("div", { "class": "row" });
    el.leave = make("button", { type: "button", "class": "plain" }, S.leave);
    row.appendChild(el.leave);
    row.appendChild(make("button", { type: "submit", "class": "primary" }, S.send));
    el.compose.appendChild(row);

    // When a chat has ended: its rating (1-5 and a comment), the ticket's satisfaction survey.
    el.rate = make("form", { "class": "rate", novalidate: "", hidden: "" });
    var set = make("fieldset");
    set.appendChild(make("legend", {}, S.rate_title));
    S.scale.forEach(function (label, i) {
      var row = make("label", { "class": "score" });
      row.appendChild(make("input", { type: "radio", name: "score", value: String(i + 1) }));
      row.appendChild(document.createTextNode(" " + (i + 1) + " · " + label));
      set.appendChild(row);
    });
    el.rate.appendChild(set);
    field(el.rate, "mc-rate-comment", S.rate_comment, make("textarea", { id: "mc-rate-comment", name: "comment", rows: "2", maxlength: "5000" }));
    el.rate.appendChild(make("button", { type: "submit", "class": "primary" }, S.rate_send));
    el.rated = make("p", { "class": "rated", role: "status", hidden: "" }, S.rated);
    el.again = make("form", { "class": "again", hidden: "" });
    el.again.appendChild(make("button", { type: "submit", "class": "primary" }, S.new_chat));
    el.cbOpen = make("button", { type: "button", "class": "plain", hidden: "" }, S.callback);
    el.human = make("button", { type: "button", "class": "plain human", hidden: "" }, S.human);

    [el.human, el.pre, el.off, el.cb, el.done, el.compose, el.rate, el.rated, el.again, el.cbOpen].forEach(function (n) {
      n.mark = document.createComment("");
      el.panel.appendChild(n.mark);
    });
    wrap.appendChild(el.panel);
    wrap.appendChild(el.launch);

    el.launch.addEventListener("click", function () { toggle(el.panel.hidden); });
    el.close.addEventListener("click", function () { toggle(false); });
    el.panel.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
    el.pre.addEventListener("submit", function (e) { e.preventDefault(); start(); });
    el.off.addEventListener("submit", function (e) { e.preventDefault(); leaveMessage(); });
    el.cb.addEventListener("submit", function (e) { e.preventDefault(); requestCallback(); });
    el.rate.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = el.rate.querySelector("input[name=score]:checked");
      if (!picked) { el.err.textContent = S.choose; el.rate.querySelector("input").focus(); return; }
      el.err.textContent = "";
      send({ type: "rate", score: +picked.value, comment: el.rate.querySelector("textarea").value });
    });
    el.compose.addEventListener("submit", function (e) { e.preventDefault(); sendText(); });
    el.again.addEventListener("submit", function (e) { e.preventDefault(); show("none"); el.first.focus(); });
    el.leave.addEventListener("click", function () { send({ type: "leave" }); });
    el.cbOpen.addEventListener("click", function () { openCallback(); });
    el.human.addEventListener("click", function () { send({ type: "human" }); });
    el.cbBack.addEventListener("click", function () { setView("chat"); });
    el.doneBack.addEventListener("click", function () { setView("chat"); });
    [el.text, el.first].forEach(function (area) {
      area.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); if (area === el.text) sendText(); else start(); }
      });
    });
    el.file.addEventListener("change", function () { if (el.file.files[0]) sendFile(el.file.files[0]); el.file.value = ""; });
    el.text.addEventListener("input", function () {
      if (!typingOn) { typingOn = true; send({ type: "typing", on: true }); }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(stopTyping, 3000);
    });
    document.addEventListener("visibilitychange", seen);
    if (store.open) toggle(true);
  }
  function field(form, id, label, input) {
    form.appendChild(make("label", { "for": id }, label));
    form.appendChild(input);
    return input;
  }
  function focusFirst() {
    var f = { callback: el.cb, done: el.doneText }[view];
    if (!f) f = state === "none" ? (el.off.hidden ? el.first : el.off) : (state === "queued" || state === "active" ? el.text : null);
    if (f && f.tagName === "FORM") f = f.querySelector("input,textarea,select");
    if (f) f.focus();
  }
  function toggle(open) {
    el.panel.hidden = !open;
    el.launch.setAttribute("aria-expanded", open ? "true" : "false");
    store.open = open; save();
    if (open) { focusFirst(); seen(); } else el.launch.focus();
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
    // Started from a help-centre article: the chat's ticket names it.
    var art = document.querySelector("[data-madad-article]");
    if (art) frame.article = parseInt(art.getAttribute("data-madad-article"), 10) || null;
    try { frame.help_visitor = localStorage.getItem("madad-help-visitor"); } catch (e) { /* none */ }
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
  // The answer bot's offer, as the bot's line in the log (never an agent's): its articles and,
  // while it has the chat, "That solved it".
  function drawBot() {
    var li = el.log.querySelector("li.bot");
    if (!bot) { if (li) li.parentNode.removeChild(li); return; }
    if (!li) {
      li = make("li", { "class": "bot" });
      li.appendChild(make("span", { "class": "who" }, S.bot_name));
      li.appendChild(document.createTextNode(S.bot_intro));
      var list = li.appendChild(make("ul"));
      bot.articles.forEach(function (a) {
        var item = list.appendChild(make("li"));
        item.appendChild(make("a", { href: C.base + a.url, target: "_blank", rel: "noopener" }, a.title));
      });
      var solved = li.appendChild(make("button", { type: "button", "class": "primary solved" }, S.bot_solved));
      solved.addEventListener("click", function () { send({ type: "solved" }); });
      var first = el.log.querySelector("li.visitor"); // it answered the first question
      el.log.insertBefore(li, first ? first.nextSibling : null);
      el.log.scrollTop = el.log.scrollHeight;
    }
    var btn = li.querySelector("button.solved");
    if (btn) btn.hidden = !(state === "bot" && !bot.outcome);
  }
  function bytes(n) { return n < 1024 ? n + " B" : n < 1048576 ? Math.round(n / 1024) + " KB" : (n / 1048576).toFixed(1) + " MB"; }
  // A file goes over HTTP (multipart, no credentials) with the upload token the socket gave;
  // the message carrying it then comes back on the socket like any other.
  function sendFile(f) {
    el.err.textContent = "";
    if (f.size > C.max_file) { el.err.textContent = t("too_big", { max: bytes(C.max_file) }); return; }
    if (!uploadToken) { el.err.textContent = S.failed; return; }
    var id = uid(), li = line({ from: "visitor", text: t("sending_file", { name: f.name }) }, true);
    pending[id] = { frame: null, li: li };
    var body = new FormData();
    body.append("upload", uploadToken); body.append("id", id); body.append("file", f, f.name);
    function failed(text) { if (li.parentNode) li.parentNode.removeChild(li); delete pending[id]; el.err.textContent = text; }
    fetch(C.base + "/api/v1/chat/visitor/files", { method: "POST", body: body, credentials: "omit" }).then(function (r) {
      if (!r.ok) failed(r.status === 413 ? t("too_big", { max: bytes(C.max_file) }) : r.status === 422 ? S.bad_file : S.failed);
    }, function () { failed(S.failed); });
  }
  function queue(frame, text) {
    var li = line({ from: "visitor", text: text, client_id: frame.id }, true);
    pending[frame.id] = { frame: frame, li: li };
    send(frame);
  }
  // An agent's face: their picture, or their initials when there is none or it fails to load.
  function face(m) {
    var span = make("span", { "class": "face", "aria-hidden": "true" }, m.initials || "?");
    if (m.avatar) {
      var img = make("img", { src: m.avatar, alt: "", referrerpolicy: "no-referrer", "class": "face" });
      img.addEventListener("error", function () { if (img.parentNode) img.parentNode.replaceChild(span, img); });
      return img;
    }
    return span;
  }
  function line(m, isPending) {
    var li = make("li", { "class": m.from + (isPending ? " pending" : "") });
    var who = li.appendChild(make("span", { "class": "who" }, m.from === "visitor" ? S.you : (m.name || S.agent)));
    if (m.from === "agent") li.insertBefore(face(m), who);
    li.appendChild(document.createTextNode(m.text));
    (m.files || []).forEach(function (f) {
      // A signed download link (a day long); the file is always downloaded, never shown.
      li.appendChild(make("a", { href: C.base + f.url, download: "", rel: "noopener", "class": "file" }, f.name + " (" + bytes(f.size) + ")"));
    });
    if (m.id) li.setAttribute("data-id", m.id);
    el.log.appendChild(li);
    el.log.scrollTop = el.log.scrollHeight;
    return li;
  }
  function message(m) {
    lastId = Math.max(lastId, m.id);
    if (el.log.querySelector('[data-id="' + m.id + '"]')) return;
    var p = m.client_id && pending[m.client_id];
    if (p && !p.frame) { p.li.parentNode.removeChild(p.li); delete pending[m.client_id]; p = null; }
    if (p) { p.li.classList.remove("pending"); p.li.setAttribute("data-id", m.id); delete pending[m.client_id]; }
    else line(m, false);
    if (m.from === "agent") { el.typing.textContent = ""; agentId = Math.max(agentId, m.id); seen(); }
  }
  // Read receipts: tell the agent what the visitor has seen (the panel open on a visible page),
  // and show "Seen" under the visitor's last message an agent saw.
  function seen() {
    if (agentId > seenSent && !el.panel.hidden && document.visibilityState === "visible" && send({ type: "seen", id: agentId })) seenSent = agentId;
  }
  function markSeen(id) {
    if (!id) return;
    seenBy = Math.max(seenBy, id);
    var old = el.log.querySelector(".seen");
    if (old) old.parentNode.removeChild(old);
    var mine = el.log.querySelectorAll("li.visitor[data-id]"), last = null;
    each(mine, function (li) { if (+li.getAttribute("data-id") <= seenBy) last = li; });
    if (last) last.appendChild(make("span", { "class": "seen" }, S.seen));
  }
  function show(s, info) {
    state = s;
    if (s !== "ended") ratingShown = false;
    var text = "";
    if (s === "queued" && info) {
      text = (info.team ? t("transferred", { team: info.team }) + " " : "") + (info.position ? t("waiting", { position: info.position }) : S.in_queue);
      if (info.wait_seconds != null) text += " " + (info.wait_seconds < 60 ? S.wait_soon : t("wait", { minutes: Math.round(info.wait_seconds / 60) }));
    } else if (s === "active" && info) text = t("connected", { name: info.agent || S.agent });
    else if (s === "bot") text = info && info.bot ? "" : S.bot_looking;
    else if (s === "ended") text = info && info.bot && info.bot.outcome === "resolved" ? S.bot_glad : S.ended;
    else if (s === "abandoned") text = S.abandoned;
    el.status.textContent = text;
    if (s === "active" && info && info.agent) el.status.insertBefore(face(info), el.status.firstChild);
    if (info && info.seen) markSeen(info.seen);
    if (info) { uploadToken = info.upload || null; rating = info.rating || null; bot = info.bot || null; drawBot(); }
    render();
  }
  // Which form the panel shows: the chat's (pre-chat, compose, new chat), the message form
  // while the queue is closed, or the callback form.
  // A form not shown is out of the document (its fields are nobody's to find or fill).
  function put(n, on) {
    n.hidden = !on;
    if (on && !n.parentNode) n.mark.parentNode.insertBefore(n, n.mark);
    else if (!on && n.parentNode) n.parentNode.removeChild(n);
  }
  function render() {
    var closed = !!hours && !hours.open, idle = state === "none", chat = view === "chat";
    var over = state === "ended" || state === "abandoned";
    put(el.pre, chat && idle && !closed);
    put(el.off, chat && idle && closed);
    put(el.compose, chat && (state === "bot" || state === "queued" || state === "active"));
    put(el.human, chat && (state === "bot" || (state === "ended" && !!bot && bot.outcome === "resolved")));
    put(el.again, chat && over);
    var r = state === "ended" ? rating : null;
    put(el.rate, chat && !!r && r.score == null && r.can_answer);
    put(el.rated, chat && !!r && r.score != null);
    if (!el.rate.hidden && !ratingShown) { ratingShown = true; send({ type: "rating_shown" }); }
    put(el.cb, view === "callback");
    put(el.done, view === "done");
    el.log.hidden = el.status.hidden = el.typing.hidden = !chat;
    put(el.cbOpen, chat && (idle || over) && canCallback());
  }
  function setView(v) { view = v; el.err.textContent = ""; render(); focusFirst(); }

  // --- posted hours ------------------------------------------------------------------------
  function canCallback() { return !!hours && hours.callbacks_enabled && slots().length > 0; }
  function fetchHours() {
    if (!C.queue) return;
    fetch(C.base + "/api/v1/live/queues/" + encodeURIComponent(C.queue) + "/status")
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) { hours = d; drawHours(); } }, function () { /* keep what we know */ });
  }
  function drawHours() {
    el.hours.hidden = false;
    el.avail.className = "avail" + (hours.open ? " on" : "");
    el.avail.textContent = hours.open ? S.online : (hours.opens_at ? t("back_at", { time: fmt(Date.parse(hours.opens_at), true) }) : S.away);
    el.week.textContent = "";
    (hours.open_spans || []).forEach(function (s) { el.week.appendChild(make("li", {}, span(Date.parse(s.start), Date.parse(s.end)))); });
    if (!el.week.firstChild) el.week.appendChild(make("li", {}, S.no_hours));
    render();
    hook();
  }
  // Callback windows: hour-long slots (at least half an hour) inside the open spans, from 10
  // minutes ahead, on the half hour.
  function slots() {
    var out = [], from = Math.ceil((Date.now() + 10 * MIN) / (30 * MIN)) * 30 * MIN;
    ((hours && hours.open_spans) || []).forEach(function (sp) {
      var a = Math.max(Date.parse(sp.start), from), e = Date.parse(sp.end);
      while (a + 30 * MIN <= e && out.length < 24) { var b = Math.min(a + 60 * MIN, e); out.push([a, b]); a = b; }
    });
    return out;
  }
  function openCallback() {
    el.slot.textContent = "";
    slots().forEach(function (w) { el.slot.appendChild(make("option", { value: w[0] + "-" + w[1] }, span(w[0], w[1]))); });
    var n = el.cb.querySelector("[name=name]");
    if (!n.value) n.value = el.name.value;
    setView("callback");
  }

  // --- forms over HTTP (CORS, no credentials) ------------------------------------------------
  function values(form) {
    var out = {}, missing = null;
    each(form.querySelectorAll("[name]"), function (i) {
      i.removeAttribute("aria-invalid");
      out[i.name] = i.value.trim();
      if (i.required && !out[i.name]) { i.setAttribute("aria-invalid", "true"); missing = missing || i; }
    });
    if (missing) { el.err.textContent = S.required; missing.focus(); return null; }
    return out;
  }
  function post(path, body, form, done, headers) {
    el.err.textContent = "";
    var h = { "Content-Type": "application/json" };
    for (var k in headers || {}) h[k] = headers[k];
    fetch(C.base + path, { method: "POST", headers: h, body: JSON.stringify(body), credentials: "omit" })
      .then(function (r) { return r.json().then(function (d) { return [r, d]; }, function () { return [r, {}]; }); })
      .then(function (x) {
        var r = x[0], d = x[1];
        if (r.ok) { form.reset(); delete form.dataset.id; done(d); return; }
        if (r.status === 429) el.err.textContent = t("too_many", { minutes: Math.ceil((+r.headers.get("Retry-After") || 60) / 60) });
        else if (r.status === 422) {
          el.err.textContent = S.check;
          (d.errors || []).forEach(function (e) {
            var i = form.querySelector('[name="' + String(e.field).split(".")[0] + '"]');
            if (i) i.setAttribute("aria-invalid", "true");
          });
        } else el.err.textContent = S.failed;
      }, function () { el.err.textContent = S.failed; });
  }
  function finished(text) { el.doneText.textContent = text; setView("done"); }
  function leaveMessage() {
    var v = values(el.off);
    if (!v || tooLong(v.text)) return;
    el.off.dataset.id = el.off.dataset.id || uid(); // a second click is the same message
    v.id = el.off.dataset.id; v.language = lang;
    post("/api/v1/chat/inboxes/" + encodeURIComponent(C.inbox) + "/messages", v, el.off, function (d) {
      finished(t("left", { email: d.email }));
    });
  }
  function requestCallback() {
    var v = values(el.cb);
    if (!v) return;
    var w = v.window_start.split("-").map(Number);
    el.cb.dataset.id = el.cb.dataset.id || uid();
    var body = { name: v.name, phone: v.phone, window_start: new Date(w[0]).toISOString(), window_end: new Date(w[1]).toISOString() };
    post("/api/v1/live/queues/" + encodeURIComponent(C.queue) + "/callbacks", body, el.cb, function () {
      finished(t("called", { phone: body.phone, when: span(w[0], w[1]) }));
    }, { "Idempotency-Key": el.cb.dataset.id });
  }
  // The host page's own buttons: data-madad-chat="open" | "callback".
  function hook() {
    each(document.querySelectorAll("[data-madad-chat]"), function (b) {
      var cb = b.getAttribute("data-madad-chat") === "callback";
      if (cb && !canCallback()) return;
      b.hidden = false;
      if (b.madad) return;
      b.madad = 1;
      b.addEventListener("click", function (e) { e.preventDefault(); if (cb) window.MadadChat.callback(); else window.MadadChat.open(); });
    });
  }

  function connect() {
    var base = C.base.replace(/^http/, "ws");
    var q = "?inbox=" + encodeURIComponent(C.inbox) + "&after=" + lastId + (store.token ? "&token=" + encodeURIComponent(store.token) : "");
    ws = new WebSocket(base + "/api/v1/chat/visitor" + q + (ID ? "&identify=1" : ""));
    ws.onopen = function () {
      if (ID) send({ type: "identify", user_id: String(ID.user_id), email: ID.email, name: ID.name || "", signature: O.signature });
    };
    ws.onmessage = function (e) {
      var d;
      try { d = JSON.parse(e.data); } catch (x) { return; }
      if (d.type === "hello") {
        store.token = d.token; save();
        // Known to the website: the pre-chat form need not ask who they are.
        [el.name, el.email].forEach(function (i) { i.hidden = i.previousSibling.hidden = !!d.identified; });
        el.intro.textContent = !d.identified ? S.intro : d.name ? t("intro_known", { name: d.name }) : S.ask;
      }
      else if (d.type === "message") message(d);
      else if (d.type === "state") show(d.state, d);
      else if (d.type === "ready") {
        ready = true; backoff = 500;
        root.host.setAttribute("data-ready", "1");
        el.status.removeAttribute("data-offline");
        for (var id in pending) if (Object.prototype.hasOwnProperty.call(pending, id) && pending[id].frame) send(pending[id].frame);
        seenSent = 0; seen();
      } else if (d.type === "ack") {
        var p = pending[d.client_id];
        if (p) { p.li.classList.remove("pending"); p.li.setAttribute("data-id", d.id); lastId = Math.max(lastId, d.id); delete pending[d.client_id]; }
      } else if (d.type === "seen") markSeen(d.id);
      else if (d.type === "typing") el.typing.textContent = d.on ? t("typing", { name: d.name || S.agent }) : "";
      else if (d.type === "error") {
        el.err.textContent = d.code === "toomanyrequests" ? t("too_many", { minutes: Math.ceil((d.retry_after || 60) / 60) }) : d.detail;
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

  function boot() {
    build(); show("none"); connect(); hook(); fetchHours();
    setInterval(fetchHours, 60000);
  }
  window.MadadChat = {
    open: function () { setView("chat"); toggle(true); },
    callback: function () { toggle(true); if (canCallback()) openCallback(); },
    reconnect: function () { if (ws) ws.close(); }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
