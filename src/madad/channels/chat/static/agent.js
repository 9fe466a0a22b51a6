// Madad console, chats page: hears the chat queue over the agents' socket, refreshes the lists
// and the open conversation through htmx, shows the visitor typing and tells them when we type.
// Runs under the console's strict CSP (no eval, no inline handlers).
(function () {
  "use strict";
  var page = document.getElementById("chat-page");
  if (!page) return;
  var current = page.dataset.session || null;
  var notice = document.getElementById("chat-notice");
  var typingBox = document.getElementById("chat-typing");
  var me = document.body.dataset.userId;
  var baseTitle = page.dataset.title || document.title;
  var ws = null, backoff = 500, typingOff = null, typing = false, seenWaiting = null;

  function send(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); }
  // Coalesce bursts of events into one refresh per fragment; an event that arrives while its
  // fragment is being fetched asks for one more fetch once that one has landed.
  var TARGET = { "madad:chats": "chat-lists", "madad:chat": "chat-log" };
  var timers = {}, busy = {}, again = {};
  function refresh(name) {
    if (busy[name]) { again[name] = true; return; }
    clearTimeout(timers[name]);
    timers[name] = setTimeout(function () { load(name); }, 120);
  }
  function load(name) {
    var el = document.getElementById(TARGET[name]);
    if (!el || !el.dataset.src || !window.htmx) return;
    busy[name] = true;
    var done = function () {
      busy[name] = false;
      updateTitle();
      markSeen();
      if (again[name]) { again[name] = false; refresh(name); }
    };
    window.htmx.ajax("GET", el.dataset.src, { target: el, swap: "outerHTML" }).then(done, done);
  }
  // Read receipts: what this agent has on screen, the visitor is told they saw.
  var seenSent = 0;
  function markSeen() {
    if (!current || document.visibilityState !== "visible") return;
    var last = 0;
    document.querySelectorAll("#chat-log li.inbound[data-id]").forEach(function (li) {
      last = Math.max(last, parseInt(li.dataset.id, 10) || 0);
    });
    if (last > seenSent) { seenSent = last; send({ type: "seen", session: current, id: last }); }
  }
  document.addEventListener("visibilitychange", markSeen);
  function updateTitle() {
    var lists = document.getElementById("chat-lists");
    var n = lists ? parseInt(lists.dataset.waiting || "0", 10) : 0;
    document.title = n > 0 ? "(" + n + ") " + baseTitle : baseTitle;
    if (seenWaiting !== null && n > seenWaiting && notice) {
      notice.textContent = page.dataset.newChat;
    }
    seenWaiting = n;
  }
  document.body.addEventListener("htmx:afterSwap", updateTitle);
  updateTitle();

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/chat/agents/stream";
    ws = new WebSocket(url);
    ws.onopen = function () { backoff = 500; };
    ws.onmessage = function (msg) {
      var data = JSON.parse(msg.data);
      if (data.type === "ready") {
        page.dataset.streamReady = "1";
        if (current) { send({ type: "watch", session: current }); refresh("madad:chat"); seenSent = 0; }
        refresh("madad:chats");
      } else if (data.type === "queue" || data.type === "agents" || data.type === "offer") {
        refresh("madad:chats");
      } else if (data.type === "watching") {
        markSeen();
      } else if (data.type === "chat" && data.session === current) {
        refresh("madad:chat");
        if (data.kind === "state") refresh("madad:chats");
        if (data.kind === "message.received" && typingBox) typingBox.hidden = true;
      } else if (data.type === "typing" && data.session === current && typingBox) {
        typingBox.textContent = page.dataset.visitorTyping;
        typingBox.hidden = !data.on;
      }
    };
    ws.onclose = function () {
      page.dataset.streamReady = "";
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }
  if (me) connect();

  var area = document.querySelector("[data-chat-typing]");
  function stopTyping() {
    if (typing) { typing = false; send({ type: "typing", session: current, on: false }); }
  }
  if (area && current) {
    area.addEventListener("input", function () {
      if (!typing) { typing = true; send({ type: "typing", session: current, on: true }); }
      clearTimeout(typingOff);
      typingOff = setTimeout(stopTyping, 3000);
    });
    area.form.addEventListener("submit", stopTyping);
    area.addEventListener("keydown", function (e) {
      // Enter sends, Shift+Enter starts a new line.
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); if (area.value.trim()) area.form.requestSubmit(); }
    });
  }
})();
