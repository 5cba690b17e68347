// The product page's tabs and copy buttons. Without JavaScript each tab is a link (?tab=ID) the server renders;
// with it, tabs switch in place (the URL follows), arrow keys move between them, and #ID opens that tab.
(function () {
  "use strict";
  const list = document.getElementById("product-tabs");
  if (!list) return;
  const tabs = Array.from(list.querySelectorAll('[role="tab"]'));

  function select(tab, focus, push) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(t.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
    }
    if (focus) tab.focus();
    if (push) {
      const url = new URL(window.location.href);
      url.searchParams.set("tab", tab.getAttribute("aria-controls"));
      url.hash = "";
      history.replaceState(null, "", url);
    }
    // the lineage graph fits itself to its view: it was hidden, so let it measure again
    window.dispatchEvent(new Event("resize"));
  }

  list.addEventListener("click", (evt) => {
    const tab = evt.target.closest('[role="tab"]');
    if (!tab || evt.ctrlKey || evt.metaKey || evt.shiftKey || evt.button !== 0) return;
    evt.preventDefault();
    select(tab, false, true);
  });
  list.addEventListener("keydown", (evt) => {
    const at = tabs.indexOf(document.activeElement);
    if (at < 0) return;
    const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[evt.key];
    if (next === undefined) return;
    evt.preventDefault();
    select(tabs[(next + tabs.length) % tabs.length], true, true);
  });

  function fromHash() {
    const id = window.location.hash.slice(1);
    if (!id) return;
    const target = document.getElementById(id);
    const panel = target && target.closest('[role="tabpanel"]');
    const tab = panel && tabs.find((t) => t.getAttribute("aria-controls") === panel.id);
    if (tab) {
      select(tab, false, false);
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();

  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const block = document.getElementById(button.dataset.copy);
      const code = block ? block.querySelector("pre code") : null;
      if (!code) return;
      try {
        await navigator.clipboard.writeText(code.textContent);
        button.textContent = "Copied";
      } catch (err) {
        const range = document.createRange();
        range.selectNodeContents(code);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
  }
})();
