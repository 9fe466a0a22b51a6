// The customer portal's comforts; every page works without them. A form sent once is not
// sent twice by a second click (the server stores it once anyway), and a request started
// from the help centre carries the help centre's visitor id (for the "contacts started from
// an article" report).
(function () {
  "use strict";

  var VISITOR_KEY = "madad-help-visitor"; // written by the help centre's help.js

  document.querySelectorAll("input[data-visitor]").forEach(function (input) {
    try {
      var id = window.localStorage.getItem(VISITOR_KEY);
      if (id) input.value = id;
    } catch (e) { /* storage refused: no visitor id */ }
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
