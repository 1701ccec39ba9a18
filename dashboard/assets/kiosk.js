/* The page on a stand nobody watches: it never freezes, and it resets between visitors.
 *
 * 1. "One moment…": every request to Dash goes through fetch. One that fails (no answer, a
 *    5xx, a timeout) or takes too long shows a full-screen "One moment…", then this script
 *    asks /health until the dashboard answers again and reloads: the URL callback puts the
 *    visitor back on the page their game is on (the game lives on the server).
 * 2. The kiosk cycle: after data-idle-seconds without a touch in a game, "Still playing?"
 *    counts down data-countdown-seconds; then the game is abandoned (this tab's session is
 *    forgotten) and the attract screen returns. Idle on the start page: straight back to the
 *    attract screen. Every tab keeps its own session and timer; a reload counts as a touch.
 */
(function () {
  "use strict";
  var SLOW_MS = 4000;      // a request this slow shows "One moment…"
  var DEAD_MS = 15000;     // one this slow is given up on: wait for /health, then reload
  var HEALTH_MS = 2000;    // how often /health is asked while recovering
  var GAME_PAGES = ["/attempt", "/result", "/finish"];
  var ATTRACT = "/attract";
  // Screens nobody touches (never reset): the attract screen, the wall, a crowd show (it goes
  // back to the attract screen by itself) and the phones that play it.
  var UNTOUCHED = [ATTRACT, "/stats", "/show", "/join"];
  var realFetch = window.fetch.bind(window);
  var pending = 0;
  var recovering = false;

  function show(id, visible) {
    var el = document.getElementById(id);
    if (el) { el.hidden = !visible; }
  }

  function healthy() {
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, HEALTH_MS);
    return realFetch("/health", {cache: "no-store", signal: abort.signal})
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (body) { return body.store_ok === true; }, function () { return false; })
      .finally(function () { clearTimeout(timer); });
  }

  function recover() {
    if (recovering) { return; }
    recovering = true;
    show("one-moment", true);
    (function ask() {
      healthy().then(function (ok) {
        if (ok) { window.location.reload(); } else { setTimeout(ask, HEALTH_MS); }
      });
    })();
  }

  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    if (url.indexOf("/_dash-") === -1) { return realFetch(input, init); }
    pending += 1;
    var slow = setTimeout(function () { show("one-moment", true); }, SLOW_MS);
    var dead = setTimeout(recover, DEAD_MS);
    function settle() {
      clearTimeout(slow); clearTimeout(dead);
      pending -= 1;
      if (!pending && !recovering) { show("one-moment", false); }
    }
    return realFetch(input, init).then(function (response) {
      settle();
      if (response.status >= 500 || response.status === 408) {
        recover();
      } else if (response.status === 400) {
        response.clone().json().then(function (body) {
          if (body && body.reset === "session") {  // a session the server cannot use
            window.sessionStorage.clear();
            recover();
          }
        }, function () {});
      }
      return response;
    }, function (error) {
      settle();
      recover();
      throw error;
    });
  };

  // --- the kiosk cycle ---
  var kiosk = document.getElementById("kiosk");
  var idleS = kiosk ? parseFloat(kiosk.dataset.idleSeconds) : NaN;
  var countdownS = kiosk ? parseFloat(kiosk.dataset.countdownSeconds) : NaN;
  if (!(idleS > 0)) { return; }
  var lastTouch = Date.now();
  var prompt = document.getElementById("idle-prompt");
  ["pointerdown", "keydown", "wheel", "touchstart"].forEach(function (type) {
    window.addEventListener(type, function (event) {
      lastTouch = Date.now();
      // A touch on the prompt closes it once the click is over, so the click cannot go
      // through to the game underneath; any other activity closes it at once.
      if (!(prompt && prompt.contains(event.target))) { show("idle-prompt", false); }
    }, {capture: true, passive: true});
  });
  if (prompt) {
    prompt.addEventListener("click", function () {
      lastTouch = Date.now();
      show("idle-prompt", false);
    });
  }

  function abandon() {
    // The server counts the game as abandoned and drops it; the next visitor gets a new
    // session, never this game. keepalive: the request outlives this page.
    var session = null, language = null;
    try {
      session = JSON.parse(window.sessionStorage.getItem("session"));
      language = JSON.parse(window.sessionStorage.getItem("language"));
    } catch (e) {}
    if (session) {
      realFetch("/api/abandon", {method: "POST", keepalive: true,
                                 headers: {"Content-Type": "application/json"},
                                 body: JSON.stringify({session: session, language: language})})
        .catch(function () {});
    }
    window.sessionStorage.clear();  // the next visitor: a new session, the stand's language
    window.location.assign(ATTRACT);
  }

  var shownPath = window.location.pathname;
  setInterval(function () {
    var path = window.location.pathname;
    if (path !== shownPath) {  // a new page: from its top, not where the last one was left
      shownPath = path;
      window.scrollTo(0, 0);
    }
    var idle = (Date.now() - lastTouch) / 1000;
    if (UNTOUCHED.indexOf(path) !== -1 || recovering) { return; }
    if (GAME_PAGES.indexOf(path) === -1) {
      if (idle >= idleS) { abandon(); }
      return;
    }
    if (idle >= idleS + countdownS) {
      abandon();
    } else if (idle >= idleS) {
      var left = document.getElementById("idle-countdown");
      if (left) { left.textContent = String(Math.ceil(idleS + countdownS - idle)); }
      show("idle-prompt", true);
    }
  }, 250);
})();
