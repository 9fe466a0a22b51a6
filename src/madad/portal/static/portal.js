// The customer portal's comforts; every page works without them. A form sent once is not
// sent twice by a second click (the server stores it once anyway), and a request from a
// browser that visited the help centre carries its visitor and visit ids (for the knowledge
// base's "contacts started from an article" and deflection figures).
(function () {
  "use strict";

  // Written by the help centre's help.js: the lasting visitor id, and the visit's
  // ({id, last}). Read only: the portal neither starts nor prolongs a help-centre visit.
  var VISITOR_KEY = "madad-help-visitor";
  var SESSION_KEY = "madad-help-session";

  function stored(key, field) {
    try {
      var raw = window.localStorage.getItem(key);
      if (!raw || !field) return raw;
      var kept = JSON.parse(raw);
      return kept && typeof kept[field] === "string" ? kept[field] : null;
    } catch (e) {
      return null; // storage refused, or not ours
    }
  }

  document.querySelectorAll("input[data-visitor]").forEach(function (input) {
    input.value = stored(VISITOR_KEY) || "";
  });
  document.querySelectorAll("input[data-help-session]").forEach(function (input) {
    input.value = stored(SESSION_KEY, "id") || "";
  });

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (!button) return;
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });
  // Back to a page sent earlier (the back/forward cache): its button works again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-once] button[type=submit]").forEach(function (b) {
      b.disabled = false;
    });
  });
})();
