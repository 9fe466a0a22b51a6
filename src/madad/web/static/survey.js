// A survey page tells the server it was shown by a browser (mail scanners that only fetch the
// link do not run this), so "opened" counts people, not robots.
(function () {
  "use strict";
  var el = document.querySelector("[data-opened-url]");
  if (!el || !navigator.sendBeacon) return;
  navigator.sendBeacon(el.getAttribute("data-opened-url"));
})();
