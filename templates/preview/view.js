"use strict";
// The edition view: when the server has a newer HTML or PDF, reload that frame (keeping the scroll
// position) and fetch the status panel again; while the content is broken, the frame keeps the last
// version that rendered and the panel shows the error.
(() => {
  const me = document.currentScript;
  const name = me.dataset.audience;
  let shown = me.dataset.key;
  let printed = me.dataset.printed;
  const frame = document.getElementById("html-frame");
  const pdf = document.getElementById("pdf-frame");
  const panel = document.getElementById("panel");

  function reloadHtml() {
    const y = frame.contentWindow ? frame.contentWindow.scrollY : 0;
    frame.addEventListener("load", () => frame.contentWindow.scrollTo(0, y), { once: true });
    // replace(): no history entry per save, so Back leaves the preview instead of stepping through saves.
    frame.contentWindow.location.replace(`/pack/build/${name}/?v=${shown}`);
  }

  function reloadPdf() {
    const url = `/_/pdf/${name}.pdf?v=${printed}`;
    if (pdf.getAttribute("src")) pdf.contentWindow.location.replace(url);
    else pdf.setAttribute("src", url);
  }

  async function update(state) {
    const edition = state.editions[name];
    if (!edition) return;
    const broken = Boolean(state.error || edition.error);
    document.body.classList.toggle("broken", broken);
    if (!broken && String(edition.stamp) !== shown) {
      shown = String(edition.stamp);
      reloadHtml();
    }
    if (pdf && edition.pdf && String(edition.printed) !== printed) {
      printed = String(edition.printed);
      reloadPdf();
    }
    const response = await fetch(`/_/panel/${name}`, { cache: "no-store" });
    if (response.ok) panel.innerHTML = await response.text();  // rendered and escaped by the server
  }

  new EventSource("/_/events").onmessage = (message) => update(JSON.parse(message.data));
})();
