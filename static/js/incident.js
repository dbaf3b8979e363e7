// War room: swap in 400/409 answers (they carry form errors), tick SLA clocks every second, and keep the
// incident list and command page fresh from the portal socket's events.
(function () {
  "use strict";
  if (window.htmx) {
    // Form errors come back as 400 (shape/meaning) or 409 (conflict): show them in place.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "40[09]", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
  }

  // --- SLA clocks: state in words, recomputed from the rendered timestamps ---
  function hms(seconds) {
    seconds = Math.floor(Math.abs(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  }
  const STATE_WORDS = { running: "Running", warning: "Warning: past 80 % of target", breached: "Breached" };
  function tickClocks() {
    const now = Date.now();
    document.querySelectorAll(".clock[data-running='1']").forEach((clock) => {
      const started = Date.parse(clock.dataset.startedAt);
      const warning = Date.parse(clock.dataset.warningAt);
      const breach = Date.parse(clock.dataset.breachAt);
      if (isNaN(started) || isNaN(breach)) return;
      const state = now >= breach ? "breached" : now >= warning ? "warning" : "running";
      clock.dataset.state = state;
      clock.querySelector(".clock-state").textContent = STATE_WORDS[state];
      const left = (breach - now) / 1000;
      clock.querySelector(".clock-text").textContent = left > 0 ? `${hms(left)} left` : `${hms(left)} over target`;
    });
  }
  setInterval(tickClocks, 1000);
  tickClocks();

  // --- live refresh ---
  function busy(panel) {
    // Never pull a panel from under someone typing in it; refresh it once they leave.
    if (panel.contains(document.activeElement) && document.activeElement !== document.body) return true;
    return [...panel.querySelectorAll("textarea, input[type=text], input[type=search]")].some((el) => el.value !== el.defaultValue);
  }
  function refreshPanel(panel) {
    if (!window.htmx || !panel.dataset.panelUrl) return;
    if (busy(panel)) { panel.dataset.stale = "1"; return; }
    delete panel.dataset.stale;
    // Each panel is its own source: requests sharing one source would be dropped while another is in flight.
    htmx.ajax("GET", panel.dataset.panelUrl, { source: panel, target: panel, swap: "outerHTML" });
  }
  function isRefreshOf(event) {
    const panel = event.detail.target, config = event.detail.requestConfig;
    return panel && panel.classList && panel.classList.contains("panel") && config &&
      config.verb === "get" && config.path === panel.dataset.panelUrl ? panel : null;
  }
  // Someone may have started typing, or opened a section, while a refresh was on its way: check again at the
  // swap. A busy panel keeps what is on screen and refreshes when they leave it; an idle one keeps the
  // sections that were open ("Assign or hand over a role") open.
  const openAtSwap = new Map();
  document.addEventListener("htmx:beforeSwap", (event) => {
    const panel = isRefreshOf(event);
    if (!panel) return;
    if (busy(panel)) {
      event.detail.shouldSwap = false;
      panel.dataset.stale = "1";
      return;
    }
    if (panel.id) openAtSwap.set(panel.id, [...panel.querySelectorAll("details")].map((details) => details.open));
  });
  document.addEventListener("htmx:afterSwap", () => {
    openAtSwap.forEach((open, id) => {
      const fresh = document.getElementById(id);
      if (fresh) fresh.querySelectorAll("details").forEach((details, i) => { if (open[i]) details.open = true; });
    });
    openAtSwap.clear();
  });
  function refreshIncident() {
    document.querySelectorAll("#incident .panel").forEach(refreshPanel);
  }
  document.addEventListener("focusout", (event) => {
    const panel = event.target.closest && event.target.closest(".panel[data-stale]");
    if (panel) setTimeout(() => { if (!panel.contains(document.activeElement)) refreshPanel(panel); }, 0);
  });

  const root = document.getElementById("incident");
  if (root) {
    const incidentId = Number(root.dataset.incident);
    const subscribe = () => window.opsportalSocket && window.opsportalSocket.send({ kind: "subscribe", incident: incidentId });
    document.addEventListener("opsportal:hello", subscribe);
    document.addEventListener("opsportal:subscribed", (event) => {
      if (event.detail.incident === incidentId) root.dataset.live = "subscribed";
    });
    subscribe();
    // Everyone in the war room hears the same event at once: a short random delay spreads their refetches,
    // and a burst of events (update + components + status) becomes one refetch.
    let pendingRefresh = null;
    document.addEventListener("opsportal:incident.changed", (event) => {
      if (event.detail.incident !== incidentId || pendingRefresh) return;
      pendingRefresh = setTimeout(() => { pendingRefresh = null; refreshIncident(); }, 100 + Math.random() * 400);
    });
    // After one of our own actions succeeds, bring the other panels along at once.
    document.body.addEventListener("incident-refresh", (event) => {
      document.querySelectorAll("#incident .panel").forEach((panel) => {
        if (!panel.contains(event.target) && panel.isConnected) refreshPanel(panel);
      });
    });
  }

  const list = () => document.querySelector("[data-live-list]");
  if (list()) {
    let pending = null;
    document.addEventListener("opsportal:incidents.changed", () => {
      // Several events in a burst (declare + components + role) become one refresh.
      clearTimeout(pending);
      pending = setTimeout(() => {
        const results = list();
        if (results && window.htmx) htmx.ajax("GET", results.dataset.liveList, { target: "#incident-results", swap: "outerHTML" });
      }, 200 + Math.random() * 400); // jittered, so every open list does not refetch in the same instant
    });
  }
})();
