// The sync progress page: fetches the page's live part (#live, served alone at its
// data-src) every two seconds while a sync runs, every five otherwise, and swaps it in.
// Without JavaScript the page's refresh link does the same by reloading.
(function () {
  "use strict";
  function schedule(live) {
    var running = live.getAttribute("data-running") === "true";
    window.setTimeout(tick, running ? 2000 : 5000);
  }
  function tick() {
    var live = document.getElementById("live");
    if (!live) { return; }
    var src = live.getAttribute("data-src");
    fetch(src, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var next = doc.getElementById("live");
          if (next) {
            live.replaceWith(document.importNode(next, true));
          }
        }
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () {
        var current = document.getElementById("live");
        if (current) { schedule(current); }
      });
  }
  var first = document.getElementById("live");
  if (first) { schedule(first); }
})();
