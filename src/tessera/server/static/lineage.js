// Tessera lineage graph: draws the server's layered layout as SVG; pan (drag, arrow keys), zoom (wheel, +/-),
// expand upstream/downstream, and a column selector that switches to column-level lineage. No dependencies.
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const MIN_SCALE = 0.75; // screen pixels per layout unit below which labels get hard to read
  const dataEl = document.getElementById("lineage-data");
  const view = document.getElementById("lineage-view");
  const svg = document.getElementById("lineage-svg");
  if (!dataEl || !view || !svg) return;
  const status = document.getElementById("lineage-status");
  const columnSelect = document.getElementById("lineage-column");
  const upButton = document.getElementById("expand-up");
  const downButton = document.getElementById("expand-down");
  let graph = JSON.parse(dataEl.textContent);
  let box = null; // the viewBox: {x, y, w, h}
  let fitted = null;

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function shorten(text, max) {
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function labels(node) {
    if (node.kind === "column" || node.kind === "source-column") return [node.column, node.dataset];
    const parts = node.dataset.split(".");
    if (node.kind === "source") return [parts.slice(2).join("."), "source system " + parts[1]];
    return [parts.slice(1).join("."), parts[0]];
  }

  function describe(node) {
    const what = node.kind.indexOf("column") >= 0 ? "column " + node.column + " of " + node.dataset : node.dataset;
    const where = node.side === "root" ? "this graph's centre" : node.side;
    return what + ", " + where + (node.href ? "; opens its product page" : "");
  }

  function setBox(b) {
    box = b;
    svg.setAttribute("viewBox", [b.x, b.y, b.w, b.h].map((n) => n.toFixed(1)).join(" "));
  }

  function fit() {
    const pad = 24;
    const w = Math.max(graph.width + 2 * pad, 400);
    const h = Math.max(graph.height + 2 * pad, 200);
    const rect = view.getBoundingClientRect();
    const aspect = rect.width > 0 && rect.height > 0 ? rect.width / rect.height : 2;
    let bw = w, bh = h;
    if (bw / bh < aspect) bw = bh * aspect; else bh = bw / aspect;
    let cx = graph.width / 2, cy = graph.height / 2;
    const widest = rect.width > 0 ? rect.width / MIN_SCALE : bw;
    if (bw > widest) {
      // too small to read when it all fits (a phone): keep a readable scale around the centre node; pan to the rest
      bw = widest;
      bh = bw / aspect;
      const root = graph.nodes.find((n) => n.side === "root");
      if (root) { cx = root.x + graph.node_width / 2; cy = root.y + graph.node_height / 2; }
    }
    fitted = { x: cx - bw / 2, y: cy - bh / 2, w: bw, h: bh };
    setBox(fitted);
  }

  function draw() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z" }, marker);
    const W = graph.node_width, H = graph.node_height;
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const edges = el("g", { class: "edges", "aria-hidden": "true" }, svg);
    for (const e of graph.edges) {
      const a = byId.get(e.from), b = byId.get(e.to);
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      const mid = (x1 + x2) / 2;
      const cls = "edge kind-" + e.kind + (graph.level === "column" ? " column" : "");
      el("path", { class: cls, d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`, "marker-end": "url(#arrow)", "data-from": e.from, "data-to": e.to }, edges);
      if (e.kind !== "input") {
        const t = el("text", { class: "edge-label", x: mid, y: (y1 + y2) / 2 - 4, "text-anchor": "middle" }, edges);
        t.textContent = e.kind;
      }
    }
    const nodes = el("g", { class: "nodes" }, svg);
    for (const n of graph.nodes) {
      const attrs = { class: `node ${n.kind} ${n.side}`, transform: `translate(${n.x} ${n.y})`, "data-id": n.id };
      let g;
      if (n.href) {
        g = el("a", Object.assign(attrs, { href: n.href, "aria-label": describe(n) }), nodes);
      } else {
        g = el("g", Object.assign(attrs, { role: "img", "aria-label": describe(n) }), nodes);
      }
      el("title", {}, g).textContent = n.id;
      el("rect", { width: W, height: H, rx: 6, ry: 6 }, g);
      const [main, sub] = labels(n);
      const t1 = el("text", { x: 10, y: 20 }, g);
      t1.textContent = shorten(main, 30);
      const t2 = el("text", { class: "sub", x: 10, y: 38 }, g);
      t2.textContent = shorten(sub, 34);
    }
    svg.setAttribute("aria-label", `Lineage of ${graph.root}: ${graph.nodes.length} nodes, ${graph.edges.length} edges`);
    if (upButton) upButton.disabled = !graph.more_up;
    if (downButton) downButton.disabled = !graph.more_down;
    if (status) {
      const level = graph.level === "column" ? `column ${graph.column}` : "product level";
      status.textContent = `${level}: ${graph.up} level${graph.up === 1 ? "" : "s"} upstream, ${graph.down} downstream; ` +
        `${graph.nodes.length} nodes, ${graph.edges.length} edges` + (graph.more_up || graph.more_down ? " (more to expand)" : "");
    }
    fit();
  }

  async function load(up, down, column) {
    const [domain, product] = graph.product.split(".");
    const params = new URLSearchParams({ up: String(up), down: String(down) });
    if (column) params.set("column", column);
    const url = `/ui/lineage/${encodeURIComponent(domain)}/${encodeURIComponent(product)}.json?${params}`;
    if (status) status.textContent = "Loading lineage…";
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || response.statusText);
      graph = body;
      draw();
    } catch (err) {
      if (status) status.textContent = "Lineage could not be loaded: " + err.message;
    }
  }

  function zoom(factor, cx, cy) {
    if (!box) return;
    const w = Math.min(Math.max(box.w * factor, 80), 20000);
    const h = (w / box.w) * box.h;
    const px = cx === undefined ? box.x + box.w / 2 : cx;
    const py = cy === undefined ? box.y + box.h / 2 : cy;
    setBox({ x: px - ((px - box.x) * w) / box.w, y: py - ((py - box.y) * h) / box.h, w, h });
  }

  function pan(dx, dy) {
    if (box) setBox({ x: box.x + dx, y: box.y + dy, w: box.w, h: box.h });
  }

  function toGraph(evt) {
    const rect = svg.getBoundingClientRect();
    return { x: box.x + ((evt.clientX - rect.left) / rect.width) * box.w, y: box.y + ((evt.clientY - rect.top) / rect.height) * box.h };
  }

  view.addEventListener("wheel", (evt) => {
    evt.preventDefault();
    const p = toGraph(evt);
    zoom(evt.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }, { passive: false });

  let drag = null;
  view.addEventListener("pointerdown", (evt) => {
    if (evt.button !== 0) return;
    drag = { x: evt.clientX, y: evt.clientY, moved: 0, id: evt.pointerId };
  });
  view.addEventListener("pointermove", (evt) => {
    if (!drag || evt.pointerId !== drag.id) return;
    const rect = svg.getBoundingClientRect();
    const dx = evt.clientX - drag.x, dy = evt.clientY - drag.y;
    drag.moved += Math.abs(dx) + Math.abs(dy);
    if (drag.moved > 4) {
      view.classList.add("dragging");
      if (!view.hasPointerCapture(evt.pointerId)) view.setPointerCapture(evt.pointerId);
    }
    pan((-dx / rect.width) * box.w, (-dy / rect.height) * box.h);
    drag.x = evt.clientX;
    drag.y = evt.clientY;
  });
  function endDrag(evt) {
    if (!drag) return;
    const moved = drag.moved;
    drag = null;
    view.classList.remove("dragging");
    if (moved > 4) {
      // a drag is not a click: keep the node under the pointer from navigating
      view.addEventListener("click", (e) => { e.preventDefault(); e.stopPropagation(); }, { capture: true, once: true });
    }
    if (view.hasPointerCapture && evt.pointerId !== undefined && view.hasPointerCapture(evt.pointerId)) view.releasePointerCapture(evt.pointerId);
  }
  view.addEventListener("pointerup", endDrag);
  view.addEventListener("pointercancel", endDrag);

  view.addEventListener("keydown", (evt) => {
    const step = box ? box.w / 10 : 40;
    const keys = {
      "+": () => zoom(1 / 1.2), "=": () => zoom(1 / 1.2), "-": () => zoom(1.2), "_": () => zoom(1.2),
      "0": () => fit(), ArrowLeft: () => pan(-step, 0), ArrowRight: () => pan(step, 0),
      ArrowUp: () => pan(0, -step), ArrowDown: () => pan(0, step),
    };
    const action = keys[evt.key];
    if (action && !evt.ctrlKey && !evt.metaKey && !evt.altKey) {
      evt.preventDefault();
      action();
    }
  });

  const bind = (id, fn) => { const b = document.getElementById(id); if (b) b.addEventListener("click", fn); };
  bind("zoom-in", () => zoom(1 / 1.2));
  bind("zoom-out", () => zoom(1.2));
  bind("zoom-reset", () => fit());
  bind("expand-up", () => load(graph.up + 1, graph.down, graph.column));
  bind("expand-down", () => load(graph.up, graph.down + 1, graph.column));
  if (columnSelect) {
    columnSelect.addEventListener("change", () => load(graph.up, graph.down, columnSelect.value || null));
  }
  window.addEventListener("resize", () => { if (fitted) fit(); });
  draw();
})();
