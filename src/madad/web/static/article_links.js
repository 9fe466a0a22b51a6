// The reply box's article links: the agent searches the knowledge base as they type (the
// search API, debounced, the latest answer wins) and picks an article; its public help-centre
// address goes into the reply at the cursor. Internal articles are listed for the agent to
// read, marked, and insert nothing: customers cannot open them. Strict-CSP clean: no inline
// handlers, results built as DOM nodes, snippets copied as text and <mark> only.
(function () {
  "use strict";

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

  function insertAt(textarea, text) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    var before = textarea.value.slice(0, start), after = textarea.value.slice(end);
    var lead = before && !/\s$/.test(before) ? " " : "";
    var trail = after && !/^\s/.test(after) ? " " : "";
    textarea.value = before + lead + text + trail + after;
    var caret = (before + lead + text + trail).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setUp(box) {
    var target = document.getElementById(box.getAttribute("data-target"));
    var toggle = box.querySelector(".article-links-toggle");
    var panel = box.querySelector(".article-links-panel");
    var input = box.querySelector("input[type=search]");
    var list = box.querySelector(".article-links-results");
    var status = box.querySelector(".article-links-status");
    if (!target || !toggle || !panel || !input || !list) return;
    var lang = box.getAttribute("data-lang") || "en";
    var internalLabel = box.getAttribute("data-internal-label");
    var noneLabel = box.getAttribute("data-none-label");
    var timer = null, latest = 0;

    function close() {
      panel.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
    }

    toggle.addEventListener("click", function () {
      var open = panel.hidden;
      panel.hidden = !open;
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) input.focus();
    });

    function show(items, q) {
      list.textContent = "";
      items.forEach(function (hit) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "article-link";
        var title = document.createElement("strong");
        title.textContent = hit.title;
        button.appendChild(title);
        if (hit.internal || !hit.public_url) {
          var mark = document.createElement("span");
          mark.className = "badge internal";
          mark.textContent = internalLabel;
          button.appendChild(mark);
          button.disabled = true;
          button.setAttribute("aria-disabled", "true");
        } else {
          button.addEventListener("click", function () {
            insertAt(target, hit.title + ": " + hit.public_url);
            close();
            toggle.focus();
            target.focus();
          });
        }
        var snippet = document.createElement("span");
        snippet.className = "snippet";
        snippet.appendChild(snippetNodes(hit.snippet));
        button.appendChild(snippet);
        li.appendChild(button);
        list.appendChild(li);
      });
      if (status) status.textContent = q && !items.length ? noneLabel : "";
    }

    function ask() {
      var q = input.value;
      if (!q.trim()) { show([], ""); return; }
      var ticket = ++latest;
      var url = "/api/v1/kb/search?limit=8&lang=" + encodeURIComponent(lang) +
        "&q=" + encodeURIComponent(q);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) { if (ticket === latest) show(body.items || [], q); })
        .catch(function () { /* the reply box works without it */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { close(); toggle.focus(); }
      if (e.key === "Enter") e.preventDefault(); // never submits the reply
      if (e.key === "ArrowDown") {
        var first = list.querySelector("button:not([disabled])");
        if (first) { e.preventDefault(); first.focus(); }
      }
    });
  }

  function start() {
    document.querySelectorAll("[data-article-links]").forEach(setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
