"use strict";
// Reload this page when what it shows changes on the server (a save re-rendered it, or broke or fixed it).
// Inside the edition view the view reloads its frame itself, keeping the scroll position.
(() => {
  const me = document.currentScript;
  if (window.top !== window.self) return;
  const name = me.dataset.audience;
  const key = me.dataset.key;
  const events = new EventSource("/_/events");
  events.onmessage = (message) => {
    const state = JSON.parse(message.data);
    const now = name ? String((state.editions[name] || {}).stamp) : String(state.version);
    if (now !== key) {
      events.close();
      location.reload();
    }
  };
})();
