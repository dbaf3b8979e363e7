// The delivery log's progress bar: moves on live "delivery.progress" events, and polls if the socket is quiet.
(function () {
  "use strict";
  const box = document.getElementById("progress");
  if (!box) return;
  const messageId = Number(box.dataset.message);
  const bar = box.querySelector("progress");
  let lastEvent = 0;

  function show(counts) {
    for (const [status, value] of Object.entries(counts)) {
      const cell = box.querySelector(`[data-count="${status}"]`);
      if (cell) cell.textContent = value;
    }
    const total = counts.total ?? Object.values(counts).reduce((a, b) => a + b, 0);
    bar.max = Math.max(total, 1);
    bar.value = (counts.sent || 0) + (counts.dead || 0) + (counts.cancelled || 0);
  }

  document.addEventListener("opsportal:delivery.progress", (event) => {
    if (event.detail.message !== messageId) return;
    lastEvent = Date.now();
    show(event.detail.counts);
  });

  // Fallback: while work is outstanding and no live event came for 3 s, ask for the counts.
  setInterval(() => {
    const outstanding = Number(box.querySelector('[data-count="pending"]').textContent) +
      Number(box.querySelector('[data-count="sending"]').textContent);
    if (!outstanding || Date.now() - lastEvent < 3000) return;
    fetch(box.dataset.progressUrl, { credentials: "same-origin" })
      .then((response) => response.json())
      .then((data) => show(data.counts))
      .catch(() => {});
  }, 3000);
})();
