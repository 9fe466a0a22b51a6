// The help centre: answers while the customer types (the search API, debounced, at most one
// request in flight), and the reading beacon: a view when an article page opens, and a read
// when the page is left after the article was visible for at least 10 seconds (Page
// Visibility API: time in a background tab does not count), with the visible time and how far
// down the customer scrolled. Every report names the visitor (a lasting id) and the visit
// ("help session": a new one after 30 minutes without activity, shared by the tabs), which
// the deflection metric counts; window.MadadHelp gives both to the chat widget and the
// portal's form on the same site, and [data-visitor] / [data-help-session] fields get them.
(function () {
  "use strict";

  var VISITOR_KEY = "madad-help-visitor";

  function visitor() {
    try {
      var id = window.localStorage.getItem(VISITOR_KEY);
      if (!id) {
        id = (window.crypto && window.crypto.randomUUID)
          ? window.crypto.randomUUID()
          : String(Date.now()) + "-" + String(Math.random()).slice(2, 12);
        window.localStorage.setItem(VISITOR_KEY, id);
      }
      return id;
    } catch (e) {
      return null;
    }
  }

  var SESSION_KEY = "madad-help-session";
  var SESSION_IDLE_MS = 30 * 60 * 1000;

  function newId() {
    return (window.crypto && window.crypto.randomUUID)
      ? window.crypto.randomUUID()
      : String(Date.now()) + "-" + String(Math.random()).slice(2, 12);
  }

  // The visit's id; each call counts as activity and keeps the visit going.
  function helpSession() {
    try {
      var now = Date.now();
      var kept = JSON.parse(window.localStorage.getItem(SESSION_KEY) || "null");
      var id = kept && typeof kept.id === "string" && now - kept.last < SESSION_IDLE_MS
        ? kept.id
        : newId();
      window.localStorage.setItem(SESSION_KEY, JSON.stringify({ id: id, last: now }));
      return id;
    } catch (e) {
      return null;
    }
  }

  window.MadadHelp = { visitor: visitor, session: helpSession };

  // --- searches, for the "searches with no result" report --------------------------------
  // A search counts once the customer settles on it: the results page, or a pause of 1.5 s
  // in the search box. The same query in the same language is reported once per tab.
  var BEACON = "/help/beacon";
  var REPORTED_KEY = "madad-help-searched";

  function reportSearch(q, lang, results) {
    q = q.trim();
    if (!q || !navigator.sendBeacon) return;
    var key = lang + ":" + q.toLowerCase();
    try {
      if (window.sessionStorage.getItem(REPORTED_KEY) === key) return;
      window.sessionStorage.setItem(REPORTED_KEY, key);
    } catch (e) { /* storage refused: report anyway */ }
    var body = JSON.stringify({
      event: "search", q: q.slice(0, 500), lang: lang, results: results, visitor: visitor(),
      help_session: helpSession()
    });
    navigator.sendBeacon(BEACON, new Blob([body], { type: "text/plain" }));
  }

  // --- search as you type ---------------------------------------------------------------
  // The snippet is HTML the server escaped, with <mark> around matches: it is parsed inside
  // an inert <template> and only its text and <mark> elements are copied.
  function snippetNodes(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    var out = document.createDocumentFragment();
    template.content.childNodes.forEach(function (node) {
      if (node.nodeType === Node.TEXT_NODE) {
        out.appendChild(document.createTextNode(node.textContent));
      } else if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        out.appendChild(mark);
      }
    });
    return out;
  }

  function setUpSearch(box) {
    var input = box.querySelector("input[type=search]");
    var list = box.querySelector(".help-suggestions");
    if (!input || !list) return;
    var api = box.getAttribute("data-search-api");
    var lang = box.getAttribute("data-lang");
    var timer = null;
    var settle = null;
    var latest = 0;

    function show(items) {
      list.textContent = "";
      items.forEach(function (hit) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        var a = document.createElement("a");
        a.href = hit.url;
        a.className = "help-suggestion";
        var title = document.createElement("strong");
        title.textContent = hit.title;
        var snippet = document.createElement("span");
        snippet.appendChild(snippetNodes(hit.snippet));
        a.appendChild(title);
        a.appendChild(snippet);
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
    }

    function ask() {
      var q = input.value;
      if (!q.trim()) {
        show([]);
        return;
      }
      var ticket = ++latest;
      var url = api + "?limit=8&lang=" + encodeURIComponent(lang) + "&q=" + encodeURIComponent(q);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) {
          if (ticket !== latest) return;
          var items = body.items || [];
          show(items);
          window.clearTimeout(settle);
          settle = window.setTimeout(function () {
            if (input.value === q) reportSearch(q, lang, items.length);
          }, 1500);
        })
        .catch(function () { /* the form still works without suggestions */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") show([]);
    });
    // Submitting goes to the results page, which reports the search itself.
    input.form.addEventListener("submit", function () { window.clearTimeout(settle); });
  }

  // --- reading beacon ---------------------------------------------------------------------
  function setUpReading(article) {
    var id = parseInt(article.getAttribute("data-article-id"), 10);
    var lang = article.getAttribute("data-lang");
    var url = article.getAttribute("data-beacon");
    var who = visitor();
    var visibleMs = 0;
    var since = document.visibilityState === "visible" ? performance.now() : null;
    var deepest = 0;
    var sent = false;

    function send(body) {
      body.article_id = id;
      body.lang = lang;
      body.visitor = who;
      body.help_session = helpSession();
      var data = JSON.stringify(body);
      if (navigator.sendBeacon) {
        navigator.sendBeacon(url, new Blob([data], { type: "text/plain" }));
      }
    }

    function scrolled() {
      var doc = document.documentElement;
      var seen = (window.scrollY + window.innerHeight) / Math.max(doc.scrollHeight, 1);
      deepest = Math.max(deepest, Math.min(seen, 1));
    }

    function pause() {
      if (since !== null) {
        visibleMs += performance.now() - since;
        since = null;
      }
    }

    function leave() {
      pause();
      if (!sent && visibleMs >= 10000) {
        sent = true;
        send({ event: "read", seconds: Math.round(visibleMs / 100) / 10, scroll: deepest });
      }
    }

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        since = performance.now();
      } else {
        leave();
      }
    });
    window.addEventListener("pagehide", leave);
    window.addEventListener("scroll", scrolled, { passive: true });
    scrolled();
    send({ event: "view" });
  }

  function start() {
    var box = document.querySelector("[data-search-api]");
    if (box) setUpSearch(box);
    var results = document.querySelector("[data-search-q]");
    if (results && box) {
      reportSearch(
        results.getAttribute("data-search-q"),
        box.getAttribute("data-lang"),
        parseInt(results.getAttribute("data-search-results"), 10) || 0
      );
    }
    var article = document.querySelector("[data-article-id]");
    if (article) setUpReading(article);
    document.querySelectorAll("[data-visitor]").forEach(function (field) {
      field.value = visitor() || "";
    });
    document.querySelectorAll("[data-help-session]").forEach(function (field) {
      field.value = helpSession() || "";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
