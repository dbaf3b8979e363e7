// The public status page: local times, and live updates over a WebSocket (polling if sockets fail).
(function () {
  "use strict";
  const state = document.getElementById("live-state");
  const POLL_MS = 30000;
  let attempt = 0;
  let socketOpen = false;
  let pollTimer = null;

  function localTimes(root) {
    const format = new Intl.DateTimeFormat(undefined, {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
    root.querySelectorAll("time[data-local]").forEach((el) => {
      const when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) el.textContent = format.format(when);
    });
  }

  function refresh() {
    // The page is served from a cache with an ETag, so this is cheap even during a surge.
    fetch(location.pathname + location.search, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        for (const id of ["live", "last-updated"]) {
          const incoming = fresh.getElementById(id);
          const current = document.getElementById(id);
          if (incoming && current) {
            current.replaceWith(incoming);
            localTimes(incoming);
          }
        }
      })
      .catch(() => setState("· offline, retrying"));
  }

  // Every open page hears a version event at the same instant; a random delay spreads their refetches
  // over a few seconds instead of landing all at once, and events arriving meanwhile share one refetch.
  const JITTER_MS = 3000;
  let refreshTimer = null;
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, Math.random() * JITTER_MS);
  }

  function setState(text) { if (state) state.textContent = text; }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(refresh, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    if (!("WebSocket" in window)) { startPolling(); return; }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let socket;
    try { socket = new WebSocket(`${scheme}://${location.host}/ws/status/`); } catch (e) { startPolling(); return; }
    socket.addEventListener("open", () => {
      socketOpen = true; attempt = 0; stopPolling(); setState("· live");
      refresh(); // catch up on anything missed while disconnected
    });
    socket.addEventListener("message", (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.kind === "status.changed") refreshSoon();
    });
    socket.addEventListener("close", () => {
      socketOpen = false; attempt += 1; setState("· reconnecting");
      startPolling();
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    });
  }

  localTimes(document);
  connect();
})();
