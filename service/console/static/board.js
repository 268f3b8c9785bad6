// The command board, live: every few seconds ask the server whether the board changed since the stamp it was
// rendered at (204: no); when it did, swap the new board in place and say so. A board whose forms hold unsent
// input is not swapped (nothing typed is lost): a notice with a reload link says the board is out of date.
// No framework, no inline script (the console's CSP allows only same-origin script files).
(function () {
  "use strict";
  var board = document.getElementById("board");
  var status = document.getElementById("board-status");
  if (!board || !board.dataset.live || !window.fetch) {
    return;
  }
  var every = parseInt(board.dataset.poll, 10) || 3000;
  var dirty = false;
  var busy = false;

  board.addEventListener("input", function () {
    dirty = true;
  });
  board.addEventListener("submit", function () {
    dirty = false;
  });

  function say(text, withReload) {
    status.textContent = text;
    if (withReload) {
      var a = document.createElement("a");
      a.href = window.location.pathname;
      a.textContent = " ↻";
      status.appendChild(a);
    }
  }

  function stamp() {
    return board.dataset.stamp || "";
  }

  function poll() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    var url = board.dataset.live + "?since=" + encodeURIComponent(stamp());
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (r) {
        if (r.status !== 200) {
          return null;
        }
        var next = r.headers.get("X-Board-Stamp");
        return r.text().then(function (html) {
          return { html: html, stamp: next };
        });
      })
      .then(function (fresh) {
        if (!fresh || fresh.stamp === stamp()) {
          return;
        }
        var time = new Date().toLocaleTimeString();
        if (dirty) {
          say(board.dataset.dirty + " " + time, true);
          return;
        }
        board.innerHTML = fresh.html;
        board.dataset.stamp = fresh.stamp || "";
        say(board.dataset.updated + " " + time, false);
      })
      .catch(function () {
        // The network or the server is away for a moment: the next tick tries again.
      })
      .then(function () {
        busy = false;
      });
  }

  window.setInterval(poll, every);
  document.addEventListener("visibilitychange", poll);
})();
