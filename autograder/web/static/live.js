// The only script of the pages: while a push is unfinished, poll its status and, once it is
// graded, swap in the page's new content (no reload; without JavaScript, reload by hand).
(function () {
  "use strict";
  var box = document.getElementById("live-status");
  if (!box || box.dataset.finished === "yes") { return; }
  var url = box.dataset.url;

  function show(state) {
    var status = document.getElementById("status");
    status.textContent = state.status;
    status.className = state.status;
    document.getElementById("status-detail").textContent =
      state.waiting_before ? "(" + state.waiting_before + " ahead of it in the queue)"
        : (state.detail ? "(" + state.detail + ")" : "");
  }

  function refreshPage() {
    fetch(window.location.href, {credentials: "same-origin"})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        if (fresh) { document.querySelector("main").replaceWith(fresh); }
      });
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state === null) { return setTimeout(poll, 10000); }
        show(state);
        if (state.finished) { refreshPage(); } else { setTimeout(poll, 2000); }
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 2000);
}());
