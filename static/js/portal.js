// The portal's live connection: one WebSocket, reconnecting with backoff; events become toasts
// and are re-dispatched on document as "opsportal:<kind>" so pages can react to them.
(function () {
  "use strict";
  const indicator = document.getElementById("live-indicator");
  const toasts = document.getElementById("toasts");
  let attempt = 0;
  let current = null;

  // Pages send on the shared socket through this (incident.js subscribes to one incident).
  window.opsportalSocket = {
    send(message) {
      if (current && current.readyState === WebSocket.OPEN) { current.send(JSON.stringify(message)); return true; }
      return false;
    },
  };

  function setState(state, text) {
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.textContent = text;
  }

  function toast(text) {
    if (!toasts) return;
    const item = document.createElement("div");
    item.className = "toast";
    item.setAttribute("role", "status");
    item.textContent = text;
    toasts.appendChild(item);
    setTimeout(() => item.remove(), 15000);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/portal/`);
    current = socket;
    socket.addEventListener("open", () => { attempt = 0; setState("open", "Live"); });
    socket.addEventListener("message", (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      document.dispatchEvent(new CustomEvent("opsportal:" + event.kind, { detail: event }));
      if (event.message) toast(event.message);
    });
    socket.addEventListener("close", (closed) => {
      if (closed.code === 4401 || closed.code === 4403) { setState("closed", "Live: signed out"); return; }
      attempt += 1;
      // Exponential backoff with jitter, capped at 30 s, so a restart does not bring every tab back at once.
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      setState("closed", "Live: reconnecting…");
      setTimeout(connect, delay);
    });
  }

  if ("WebSocket" in window) connect();
})();
