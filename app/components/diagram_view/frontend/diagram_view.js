// The browser half of app/components/diagram_view: a Graphviz SVG made into an instrument.
//
// Streamlit (st.components.v2) calls the default export on mount and again whenever the data from
// Python changes, always with the same parentElement (a shadow root), so one DiagramView lives per
// parent and each call updates it. The SVG is parsed and inserted once per new diagram; pan and
// zoom only change one CSS transform on the wrapper (.dv-paper), so a 600-block graph pans without
// a re-render. Layout is Graphviz's: the SVG laid out by `dot` on the server, or, when only DOT is
// given, by Graphviz compiled to WebAssembly (vendored, see ../vendor) in a Web Worker, so the tab
// stays responsive while a big graph is laid out.
//
// Node identity: a node's key is its DOT `id` attribute when the DOT gave one (Graphviz writes it
// as the <g>'s id), otherwise its DOT name (Graphviz writes it as the <g>'s <title>). Graphviz's
// own ids (node12, clust3, edge7) are not keys. Clusters (stages) answer to the same rule
// ("cluster_layer1" unless the cluster has an id) but only take part when the caller named them.

const VIEWS = new WeakMap(); // parentElement → DiagramView
const NATURAL = 4 / 3; // Graphviz's 100 %: 1 pt = 4/3 CSS px
const READING = 1; // px per pt for a diagram that scrolls anyway: its point sizes as CSS px
const MARGIN = 24; // px of viewport kept round the diagram when fitting or starting (its paper edge is 16 SVG units)
const DRAG_PX = 4; // a press that moves less than this is a click
const TINY_PX = 4; // text smaller than this on screen is not drawn (a zoomed-out overview)
const MINIMAP_PX = 200; // the minimap box's longer side, at most
const MINIMAP_SHORT_PX = 56; // its shorter side, at least (a 600-block column stays recognisable)
const MINIMAP_CANVAS_PX = 8192; // the minimap canvas's longer side, at most (device px)
const MINIMAP_GAP = 10; // px between the minimap and the view's edges (the CSS says the same)
const GRAPHVIZ_IDS = /^(node|clust|edge|graph|a_node|a_edge)\d+$/;
const SVG_NS = "http://www.w3.org/2000/svg";

const ICONS = {
  minus: '<svg viewBox="0 0 16 16"><path d="M3 8h10"/></svg>',
  plus: '<svg viewBox="0 0 16 16"><path d="M3 8h10M8 3v10"/></svg>',
  fit: '<svg viewBox="0 0 16 16"><path d="M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4"/></svg>',
  full: '<svg viewBox="0 0 16 16"><path d="M2 6V2h4M2 2l4 4M10 2h4v4M14 2l-4 4M14 10v4h-4M14 14l-4-4M6 14H2v-4M2 14l4-4"/></svg>',
};

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let view = VIEWS.get(parentElement);
  if (!view) {
    view = new DiagramView(parentElement);
    VIEWS.set(parentElement, view);
  }
  view.send = setTriggerValue;
  const generation = ++view.generation;
  view.update(data || {});
  // Streamlit keeps the cleanup of the latest call and runs it on unmount; an earlier call's
  // cleanup can still run late (a superseded mount), so only the latest one tears down.
  return () => {
    if (view.generation === generation) {
      view.destroy();
      VIEWS.delete(parentElement);
    }
  };
}

function el(tag, className, attrs = {}) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// Keep receiving a pointer's moves outside the element; a pointer the browser no longer tracks
// (a touch already lifted) cannot be captured, and that must not stop the gesture.
function capture(element, pointerId) {
  try {
    element.setPointerCapture(pointerId);
  } catch {
    // the gesture goes on without capture
  }
}

function clamp(x, lo, hi) {
  return Math.min(Math.max(x, lo), hi);
}

// -- Graphviz in WebAssembly, in a worker ---------------------------------------------------------

const WORKER_SOURCE = `
let graphviz = null;
self.onmessage = async (event) => {
  const { id, dot, url } = event.data;
  try {
    if (!graphviz) graphviz = import(url).then((m) => m.Graphviz.load());
    const gv = await graphviz;
    const t = performance.now();
    const svg = gv.dot(dot, "svg");
    self.postMessage({ id, svg, ms: performance.now() - t, version: gv.version() });
  } catch (error) {
    self.postMessage({ id, error: String((error && error.message) || error) });
  }
};`;

let layoutWorker = null;
let layoutRequests = 0;
const layoutWaiting = new Map(); // request id → {resolve, reject}

function layoutInWorker(dot, url) {
  if (!layoutWorker) {
    const blob = new Blob([WORKER_SOURCE], { type: "text/javascript" });
    layoutWorker = new Worker(URL.createObjectURL(blob), { type: "module" });
    layoutWorker.onmessage = (event) => {
      const { id, error } = event.data;
      const waiting = layoutWaiting.get(id);
      layoutWaiting.delete(id);
      if (!waiting) return;
      if (error) waiting.reject(new Error(error));
      else waiting.resolve(event.data);
    };
    layoutWorker.onerror = (event) => {
      const message = event.message || "the layout worker failed to start";
      for (const waiting of layoutWaiting.values()) waiting.reject(new Error(message));
      layoutWaiting.clear();
      layoutWorker = null;
    };
  }
  const id = ++layoutRequests;
  const absolute = new URL(url, window.location.href).href;
  return new Promise((resolve, reject) => {
    layoutWaiting.set(id, { resolve, reject });
    layoutWorker.postMessage({ id, dot, url: absolute });
  });
}

// -- the view -------------------------------------------------------------------------------------

class DiagramView {
  constructor(parent) {
    this.parent = parent;
    this.generation = 0;
    this.send = () => {};
    this.data = {};
    this.svg = null; // the <svg> element shown
    this.svgText = null; // what it was parsed from (server SVG or the worker's)
    this.source = null; // the svg or DOT string it came from, to tell new input from old
    this.index = new Map(); // key → <g>
    this.decorated = [];
    this.selectedKey = null;
    this.gw = 1;
    this.gh = 1;
    this.minFont = 14;
    this.s = 1;
    this.tx = 0;
    this.ty = 0;
    this.touched = false; // the user has panned or zoomed since the diagram opened
    this.anchor = null; // a toggled node's screen position, kept when the new diagram arrives
    this.pointers = new Map();
    this.press = null;
    this.pinch = null;
    this.frame = 0;
    this.paints = 0;
    this.layoutRequest = 0;
    this.build();
  }

  build() {
    const root = (this.root = el("div", "dv-root", { "data-testid": "diagram-view", "data-state": "empty" }));
    const toolbar = (this.toolbar = el("div", "dv-toolbar"));
    const tools = el("div", "dv-tools", { role: "toolbar", "aria-label": "Diagram view" });
    const button = (name, label, html, onClick) => {
      const b = el("button", `dv-${name}`, { type: "button", title: label, "aria-label": label });
      b.innerHTML = html; // our own constant icons, never caller text
      b.addEventListener("click", onClick);
      tools.append(b);
      return b;
    };
    button("out", "Zoom out (−)", ICONS.minus, () => this.zoomBy(1 / 1.25));
    this.zoomLabel = button("zoom", "Back to the start view (0)", "100 %", () => this.startView());
    button("in", "Zoom in (+)", ICONS.plus, () => this.zoomBy(1.25));
    button("fit", "Fit the whole diagram (F)", ICONS.fit, () => this.fit());
    button("full", "Fullscreen (Esc leaves)", ICONS.full, () => this.toggleFullscreen());
    this.legend = el("ul", "dv-legend", { "aria-label": "Legend" });
    toolbar.append(tools, this.legend);

    const viewport = (this.viewport = el("div", "dv-viewport", {
      tabindex: "0",
      role: "application",
      "aria-label": "Diagram: drag to pan, wheel or pinch to zoom, click a box to select it",
    }));
    this.paper = el("div", "dv-paper");
    this.tooltip = el("div", "dv-tooltip", { role: "tooltip", hidden: "" });
    this.minimap = el("div", "dv-minimap", { hidden: "", "aria-label": "Overview: click to move there" });
    this.minimapCanvas = el("canvas");
    this.minimapView = el("div", "dv-minimap-view");
    this.minimap.append(this.minimapCanvas, this.minimapView);
    this.status = el("div", "dv-status", { role: "status", hidden: "" });
    viewport.append(this.paper, this.minimap, this.tooltip, this.status);
    root.append(toolbar, viewport);
    this.parent.append(root);

    this.listeners = [
      [viewport, "pointerdown", (e) => this.onPointerDown(e)],
      [viewport, "pointermove", (e) => this.onPointerMove(e)],
      [viewport, "pointerup", (e) => this.onPointerUp(e)],
      [viewport, "pointercancel", (e) => this.onPointerUp(e)],
      [viewport, "pointerleave", () => this.hideTooltip()],
      [viewport, "wheel", (e) => this.onWheel(e), { passive: false }],
      [viewport, "keydown", (e) => this.onKey(e)],
      [viewport, "focusin", (e) => this.onFocus(e)],
      [viewport, "focusout", () => this.hideTooltip()],
      [this.minimap, "pointerdown", (e) => this.onMinimap(e)],
      [this.minimap, "pointermove", (e) => this.onMinimap(e)],
      [document, "fullscreenchange", () => this.onFullscreenChange()],
      [window, "resize", () => this.onResize()],
    ];
    for (const [target, type, fn, options] of this.listeners) target.addEventListener(type, fn, options);
    this.lastWidth = 0;
    this.resizer = new ResizeObserver(() => this.onResize());
    this.resizer.observe(root);
  }

  destroy() {
    for (const [target, type, fn, options] of this.listeners) target.removeEventListener(type, fn, options);
    this.resizer.disconnect();
    cancelAnimationFrame(this.frame);
    this.root.remove();
  }

  // -- new data from Python ----------------------------------------------------------------------

  update(data) {
    const previous = this.data;
    this.data = data;
    this.legible = data.legible_px || 12;
    this.toggles = data.toggles || {};
    this.nodes = data.nodes || {};
    this.root.classList.toggle("dv-dark", isDark(this.root));
    if (JSON.stringify(previous.legend) !== JSON.stringify(data.legend)) this.drawLegend(data.legend || []);
    if (data.height !== previous.height && this.svg) this.startView();

    if (data.svg) {
      if (data.svg !== this.source) this.show(data.svg, data.svg, data.layout || "server");
      else this.decorate();
    } else if (data.dot) {
      if (data.dot !== this.source) this.layOut(data.dot, data.graphviz_url);
      else this.decorate();
    } else {
      this.setStatus("Nothing to draw: no SVG and no DOT was given.", true);
    }
  }

  async layOut(dot, url) {
    const request = ++this.layoutRequest;
    const kb = Math.round(dot.length / 1024);
    this.root.dataset.state = "layout";
    this.setStatus(`Laying out ${kb} kB of DOT in the browser (Graphviz, WebAssembly)…`);
    const t = performance.now();
    try {
      if (!url) throw new Error("no Graphviz WebAssembly bundle was given");
      const result = await layoutInWorker(dot, url);
      if (request !== this.layoutRequest) return; // a newer diagram came in meanwhile
      this.root.dataset.layoutMs = String(Math.round(performance.now() - t));
      this.root.dataset.graphviz = result.version;
      this.show(result.svg, dot, "browser");
    } catch (error) {
      if (request !== this.layoutRequest) return;
      this.root.dataset.state = "error";
      this.setStatus(`The browser could not lay this diagram out: ${error.message}`, true);
    }
  }

  setStatus(text, isError = false) {
    this.status.textContent = text || "";
    this.status.hidden = !text;
    this.status.classList.toggle("dv-error", Boolean(isError));
  }

  // -- a new SVG ---------------------------------------------------------------------------------

  show(svgText, source, layout) {
    const t = performance.now();
    const start = svgText.indexOf("<svg");
    if (start < 0) {
      this.root.dataset.state = "error";
      this.setStatus("The diagram is not an SVG.", true);
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = svgText.slice(start);
    const svg = template.content.querySelector("svg");
    sanitize(svg, svgText);

    // One SVG user unit is one CSS px at scale 1: the view's scale is then px per Graphviz point.
    const box = svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width ? svg.viewBox.baseVal : null;
    const gw = box ? box.width : parseFloat(svg.getAttribute("width")) || 1;
    const gh = box ? box.height : parseFloat(svg.getAttribute("height")) || 1;
    if (!box) svg.setAttribute("viewBox", `0 0 ${gw} ${gh}`);
    svg.setAttribute("width", String(gw));
    svg.setAttribute("height", String(gh));

    // Before the new diagram replaces the old: where the toggled node sat on screen.
    let anchor = null;
    if (this.anchor && this.svg) {
      anchor = { ...this.anchor, s: this.s };
    }
    this.anchor = null;

    this.index = indexNodes(svg);
    for (const title of svg.querySelectorAll("title")) title.remove(); // our tooltip, not the browser's
    this.minFont = smallestFont(svg);
    this.title = graphTitle(svg);
    this.svg = svg;
    this.svgText = svgText;
    this.source = source;
    this.gw = gw;
    this.gh = gh;
    this.decorated = [];
    this.selectedKey = null;
    this.paper.style.width = `${gw}px`;
    this.paper.style.height = `${gh}px`;
    this.paper.replaceChildren(svg);
    this.setStatus("");
    this.hideTooltip();

    const ds = this.root.dataset;
    ds.layout = layout;
    ds.minFont = this.minFont.toFixed(2);
    ds.graphW = gw.toFixed(1);
    ds.graphH = gh.toFixed(1);
    ds.title = this.title;
    ds.nodes = String(this.index.size);

    this.decorate(true);
    const kept = anchor && this.index.get(anchor.key);
    if (kept) this.keepAnchor(kept, anchor);
    else this.startView();
    ds.state = "ready";
    ds.insertMs = String(Math.round(performance.now() - t));
    // After the browser has painted the new diagram: a timestamp the tests and the benchmark read,
    // and the minimap, built only then so that it never delays the first paint.
    const paint = ++this.paints;
    requestAnimationFrame(() =>
      setTimeout(() => {
        if (paint !== this.paints) return;
        ds.paintedAt = String(performance.now());
        ds.paints = String(paint);
        this.buildMinimap(paint);
      }, 0),
    );
  }

  // Selection, clickable and toggle marks: cheap, redone whenever Python sends new data.
  decorate(fresh = false) {
    for (const g of this.decorated) {
      g.classList.remove("dv-hot", "dv-toggle", "dv-selected");
      g.removeAttribute("tabindex");
      g.removeAttribute("role");
      g.removeAttribute("aria-label");
    }
    this.decorated = [];
    const keys = new Set([...Object.keys(this.nodes), ...Object.keys(this.toggles)]);
    this.allHot = keys.size === 0;
    this.root.classList.toggle("dv-all-hot", this.allHot);
    this.root.classList.toggle("dv-inert", this.data.selectable === false);
    for (const key of keys) {
      const g = this.index.get(key);
      if (!g) continue;
      g.classList.add("dv-hot");
      const toggle = key in this.toggles;
      if (toggle) g.classList.add("dv-toggle");
      // Reachable by Tab: focus shows its tooltip, Enter or Space clicks it.
      g.setAttribute("tabindex", "0");
      if (toggle || this.clickable(key)) g.setAttribute("role", "button");
      g.setAttribute("aria-label", g.getAttribute("data-dv-label") || key);
      this.decorated.push(g);
    }
    const selected = this.data.selected || null;
    const g = selected && this.index.get(selected);
    if (g) {
      g.classList.add("dv-selected");
      this.decorated.push(g);
    }
    this.root.dataset.selected = g ? selected : "";
    const changed = selected !== this.selectedKey;
    this.selectedKey = selected;
    // A selection made elsewhere (a table row, a shared link) is brought into view.
    if (changed && g && !fresh && !this.isVisible(g)) this.centerOn(g);
  }

  // -- geometry ----------------------------------------------------------------------------------

  viewSize() {
    return { vw: this.viewport.clientWidth || 1, vh: this.viewport.clientHeight || 1 };
  }

  // A node's box in SVG user units (= px at scale 1).
  box(g) {
    const b = g.getBBox();
    const m = g.getCTM();
    if (!m) return { x: b.x, y: b.y, w: b.width, h: b.height };
    const p = new DOMPoint(b.x, b.y).matrixTransform(m);
    const q = new DOMPoint(b.x + b.width, b.y + b.height).matrixTransform(m);
    return { x: Math.min(p.x, q.x), y: Math.min(p.y, q.y), w: Math.abs(q.x - p.x), h: Math.abs(q.y - p.y) };
  }

  isVisible(g) {
    const b = this.box(g);
    const { vw, vh } = this.viewSize();
    const x = this.tx + this.s * b.x;
    const y = this.ty + this.s * b.y;
    return x >= 0 && y >= 0 && x + this.s * b.w <= vw && y + this.s * b.h <= vh;
  }

  fitScale(vw, vh) {
    return Math.min((vw - 2 * MARGIN) / this.gw, (vh - 2 * MARGIN) / this.gh);
  }

  // The scale a diagram opens at: the whole of it where its smallest text is then still legible
  // (never above Graphviz's own 100 %); else, as it has to scroll along its flow anyway, the scale
  // that fills the view across the flow, between the legible scale and READING.
  openingScale(vw, vh) {
    const legible = this.legible / this.minFont;
    const fit = this.fitScale(vw, vh);
    if (fit >= legible) return Math.min(fit, NATURAL);
    const cross = this.tall()
      ? (vw - 2 * MARGIN) / this.gw
      : (vh - 2 * MARGIN - this.minimapReserve()) / this.gh;
    return clamp(cross, legible, Math.max(legible, READING));
  }

  tall() {
    return this.gh >= this.gw;
  }

  // The minimap's longer side at most: MINIMAP_PX, or less in a narrow view (a figure beside text),
  // where a 200 px overview would hide a third of the diagram.
  minimapCap() {
    const vw = this.viewport.clientWidth || this.root.clientWidth || 600;
    return clamp(Math.round(0.3 * vw), 80, MINIMAP_PX);
  }

  // A diagram running left to right past the view keeps a band under it for the minimap, so that
  // the minimap covers none of it in the opening view.
  minimapReserve() {
    return this.tall() ? 0 : minimapSize(this.gw, this.gh, this.minimapCap()).mh + 2 * MINIMAP_GAP;
  }

  overflowsAcross(vw, s) {
    return !this.tall() && s * this.gw > vw - 2 * MARGIN;
  }

  maxAutoHeight() {
    return Math.max(320, Math.round(window.innerHeight * 0.75) - this.toolbar.offsetHeight);
  }

  isFullscreen() {
    return this.root.classList.contains("dv-max") || this.root.getRootNode().fullscreenElement === this.root;
  }

  // Size the viewport (its height follows the diagram unless the caller or fullscreen fixes it),
  // then return the opening scale for that size.
  sizeViewport() {
    const vw = this.viewport.clientWidth || this.root.clientWidth || 600;
    let vh;
    if (this.isFullscreen()) {
      this.viewport.style.height = "";
      return { vw, vh: this.viewport.clientHeight || window.innerHeight, s: this.openingScale(vw, window.innerHeight) };
    }
    if (this.data.height) {
      vh = Math.max(120, this.data.height - this.toolbar.offsetHeight - 2);
    } else {
      const cap = this.maxAutoHeight();
      const s = this.openingScale(vw, cap);
      const reserve = this.overflowsAcross(vw, s) ? this.minimapReserve() : 0;
      vh = clamp(Math.ceil(s * this.gh + 2 * MARGIN + reserve), 160, cap);
    }
    this.viewport.style.height = `${vh}px`;
    return { vw, vh, s: this.openingScale(vw, vh) };
  }

  // The opening view: everything, if it fits legibly; else a legible zoom on the start — the node
  // the caller named (or the selection), else the diagram's top (top-to-bottom) or left edge.
  startView() {
    if (!this.svg) return;
    const { vw, vh, s } = this.sizeViewport();
    this.s = s;
    this.touched = false;
    const w = s * this.gw;
    const h = s * this.gh;
    const tall = this.tall();
    const focusKey = this.data.start || this.data.selected;
    const focus = focusKey && this.index.get(focusKey);
    const reserve = this.overflowsAcross(vw, s) ? this.minimapReserve() : 0;
    let tx = (vw - w) / 2;
    let ty = (vh - reserve - h) / 2;
    if (w > vw - 2 * MARGIN || h > vh - 2 * MARGIN) {
      const b = focus ? this.box(focus) : null;
      // Across the flow, the start view stays where it is unless that leaves the focus out of view.
      if (tall) {
        ty = b && s * b.y > vh / 2 ? MARGIN - s * b.y : MARGIN;
        if (w > vw - 2 * MARGIN) {
          tx = (vw - w) / 2;
          if (b && (tx + s * b.x < 0 || tx + s * (b.x + b.w) > vw)) tx = vw / 2 - s * (b.x + b.w / 2);
        }
      } else {
        tx = b && s * b.x > vw / 2 ? MARGIN - s * b.x : MARGIN;
        if (h > vh - 2 * MARGIN - reserve) {
          ty = MARGIN;
          if (b && (ty + s * b.y < 0 || ty + s * (b.y + b.h) > vh - reserve)) {
            ty = (vh - reserve) / 2 - s * (b.y + b.h / 2);
          }
        }
      }
    }
    this.tx = tx;
    this.ty = ty;
    this.clampPan();
    this.apply();
  }

  fit() {
    const { vw, vh } = this.viewSize();
    this.s = this.fitScale(vw, vh);
    this.tx = (vw - this.s * this.gw) / 2;
    this.ty = (vh - this.s * this.gh) / 2;
    this.touched = true;
    this.apply();
  }

  keepAnchor(g, anchor) {
    this.sizeViewport();
    const b = this.box(g);
    this.s = anchor.s;
    this.tx = anchor.x - this.s * (b.x + b.w / 2);
    this.ty = anchor.y - this.s * (b.y + b.h / 2);
    this.touched = true;
    this.clampPan();
    this.apply();
  }

  centerOn(g) {
    const b = this.box(g);
    const { vw, vh } = this.viewSize();
    this.tx = vw / 2 - this.s * (b.x + b.w / 2);
    this.ty = vh / 2 - this.s * (b.y + b.h / 2);
    this.clampPan();
    this.apply();
  }

  // Keep at least a strip of the diagram in view, however far it is dragged.
  clampPan() {
    const { vw, vh } = this.viewSize();
    const keep = 48;
    this.tx = clamp(this.tx, keep - this.s * this.gw, vw - keep);
    this.ty = clamp(this.ty, keep - this.s * this.gh, vh - keep);
  }

  scaleLimits() {
    const { vw, vh } = this.viewSize();
    const low = Math.min(this.fitScale(vw, vh), this.legible / this.minFont) / 2;
    return [Math.max(low, 1e-3), Math.max(8, (4 * this.legible) / this.minFont)];
  }

  zoomAt(factor, x, y) {
    const [lo, hi] = this.scaleLimits();
    const s = clamp(this.s * factor, lo, hi);
    if (s === this.s) return;
    this.tx = x - ((x - this.tx) * s) / this.s;
    this.ty = y - ((y - this.ty) * s) / this.s;
    this.s = s;
    this.touched = true;
    this.clampPan();
    this.apply();
  }

  zoomBy(factor) {
    const { vw, vh } = this.viewSize();
    this.zoomAt(factor, vw / 2, vh / 2);
  }

  // One transform per animation frame, whatever the number of input events. The wrapper is not
  // promoted to a layer of its own (no will-change): a composited 90,000 px column is re-rasterised
  // whole at every new scale (seconds per frame for ResNet-1202), while an ordinary transformed box
  // is repainted only where it shows, at the exact scale, so text stays sharp at every zoom.
  apply() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paper.style.transform = `translate(${this.tx}px, ${this.ty}px) scale(${this.s})`;
      this.zoomLabel.textContent = `${Math.round((this.s / NATURAL) * 100)} %`;
      const ds = this.root.dataset;
      ds.scale = this.s.toFixed(4);
      ds.tx = this.tx.toFixed(1);
      ds.ty = this.ty.toFixed(1);
      // Text drawn below TINY_PX cannot be read: leave it out, so a zoomed-out overview of a big
      // diagram paints its boxes and edges only.
      this.root.classList.toggle("dv-tiny", this.s * this.minFont < TINY_PX);
      this.drawMinimapView();
    });
  }

  // -- input -------------------------------------------------------------------------------------

  local(e) {
    const r = this.viewport.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  nodeAt(target) {
    const g = target && target.closest ? target.closest("g.node, g.cluster") : null;
    if (!g) return null;
    if (g.classList.contains("dv-hot")) return g;
    return this.allHot && g.classList.contains("node") ? g : null;
  }

  onPointerDown(e) {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    if (this.minimap.contains(e.target)) return;
    capture(this.viewport, e.pointerId);
    const p = this.local(e);
    this.pointers.set(e.pointerId, p);
    this.hideTooltip();
    if (this.pointers.size === 1) {
      this.press = { x: p.x, y: p.y, tx: this.tx, ty: this.ty, node: this.nodeAt(e.target), moved: false };
    } else if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      this.pinch = { d: Math.hypot(a.x - b.x, a.y - b.y) || 1, s: this.s, mx: (a.x + b.x) / 2, my: (a.y + b.y) / 2 };
      this.pinch.tx = this.tx;
      this.pinch.ty = this.ty;
      if (this.press) this.press.moved = true;
    }
  }

  onPointerMove(e) {
    if (!this.pointers.has(e.pointerId)) {
      this.hover(e);
      return;
    }
    const p = this.local(e);
    this.pointers.set(e.pointerId, p);
    if (this.pinch && this.pointers.size >= 2) {
      const [a, b] = [...this.pointers.values()];
      const d = Math.hypot(a.x - b.x, a.y - b.y) || 1;
      const mx = (a.x + b.x) / 2;
      const my = (a.y + b.y) / 2;
      const [lo, hi] = this.scaleLimits();
      const s = clamp((this.pinch.s * d) / this.pinch.d, lo, hi);
      // The point under the pinch's first midpoint follows the midpoint as it moves.
      this.tx = mx - ((this.pinch.mx - this.pinch.tx) * s) / this.pinch.s;
      this.ty = my - ((this.pinch.my - this.pinch.ty) * s) / this.pinch.s;
      this.s = s;
      this.touched = true;
      this.clampPan();
      this.apply();
      return;
    }
    const press = this.press;
    if (!press) return;
    const dx = p.x - press.x;
    const dy = p.y - press.y;
    if (!press.moved && Math.hypot(dx, dy) < DRAG_PX) return;
    if (!press.moved) {
      press.moved = true;
      this.root.classList.add("dv-dragging");
    }
    this.tx = press.tx + dx;
    this.ty = press.ty + dy;
    this.touched = true;
    this.clampPan();
    this.apply();
  }

  onPointerUp(e) {
    if (!this.pointers.has(e.pointerId)) return;
    this.pointers.delete(e.pointerId);
    const press = this.press;
    if (this.pointers.size === 0) {
      this.press = null;
      this.pinch = null;
      this.root.classList.remove("dv-dragging");
      if (e.type === "pointerup" && press && !press.moved && press.node) this.activate(press.node);
    } else if (this.pointers.size === 1) {
      // One finger left after a pinch: it pans on from here.
      const [p] = [...this.pointers.values()];
      this.pinch = null;
      this.press = { x: p.x, y: p.y, tx: this.tx, ty: this.ty, node: null, moved: true };
    }
  }

  onWheel(e) {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.viewSize().vh : 1;
    const dx = e.deltaX * unit;
    const dy = e.deltaY * unit;
    const p = this.local(e);
    if (e.ctrlKey) {
      this.zoomAt(Math.exp(-dy * 0.01), p.x, p.y); // a trackpad pinch arrives as ctrl + wheel
    } else if (Math.abs(dx) > Math.abs(dy)) {
      this.tx -= dx; // a sideways swipe pans
      this.touched = true;
      this.clampPan();
      this.apply();
    } else {
      this.zoomAt(Math.exp(-dy * 0.0015), p.x, p.y);
    }
  }

  // A box reached by Tab: bring it into view and show its tooltip beside it.
  onFocus(e) {
    const g = e.target && e.target.closest ? e.target.closest("g.dv-hot") : null;
    if (!g || !g.matches(":focus-visible")) return; // a click focuses too: that one keeps the view
    if (!this.isVisible(g)) this.centerOn(g);
    this.hovered = g;
    this.fillTooltip(g);
    const b = this.box(g);
    const t = this.tooltip;
    t.hidden = false;
    const { vw, vh } = this.viewSize();
    const x = this.tx + this.s * (b.x + b.w) + 8;
    const y = this.ty + this.s * b.y;
    t.style.left = `${clamp(x + t.offsetWidth > vw ? this.tx + this.s * b.x - 8 - t.offsetWidth : x, 4, vw - 4)}px`;
    t.style.top = `${clamp(y, 4, Math.max(4, vh - t.offsetHeight - 4))}px`;
  }

  onKey(e) {
    const focused = e.target && e.target.closest ? e.target.closest("g.dv-hot") : null;
    if (focused && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      this.activate(focused);
      return;
    }
    const step = 80;
    const keys = {
      "+": () => this.zoomBy(1.25),
      "=": () => this.zoomBy(1.25),
      "-": () => this.zoomBy(1 / 1.25),
      0: () => this.startView(),
      f: () => this.fit(),
      ArrowLeft: () => this.panBy(step, 0),
      ArrowRight: () => this.panBy(-step, 0),
      ArrowUp: () => this.panBy(0, step),
      ArrowDown: () => this.panBy(0, -step),
      Escape: () => this.root.classList.contains("dv-max") && this.toggleFullscreen(),
    };
    const action = keys[e.key];
    if (action && !e.altKey && !e.metaKey && !e.ctrlKey) {
      e.preventDefault();
      action();
    }
  }

  panBy(dx, dy) {
    this.tx += dx;
    this.ty += dy;
    this.touched = true;
    this.clampPan();
    this.apply();
  }

  // Whether a click on the box sends an event: toggles always, others unless the caller said
  // selectable=False (a figure whose boxes only explain themselves on hover).
  clickable(key) {
    return key in this.toggles || this.data.selectable !== false;
  }

  activate(g) {
    const key = g.getAttribute("data-dv-key");
    if (!this.clickable(key)) return;
    const kind = key in this.toggles ? "toggle" : "select";
    if (kind === "toggle") {
      // The node's centre keeps its place on screen when the folded/unfolded diagram replaces this one.
      const b = this.box(g);
      this.anchor = { key, x: this.tx + this.s * (b.x + b.w / 2), y: this.ty + this.s * (b.y + b.h / 2) };
    }
    this.root.dataset.lastEvent = `${kind} ${key}`;
    this.send("event", { kind, node: key });
  }

  hover(e) {
    const g = this.nodeAt(e.target);
    if (!g) {
      this.hideTooltip();
      return;
    }
    if (g !== this.hovered) {
      this.hovered = g;
      this.fillTooltip(g);
    }
    const p = this.local(e);
    const { vw, vh } = this.viewSize();
    const t = this.tooltip;
    t.hidden = false;
    const w = t.offsetWidth;
    const h = t.offsetHeight;
    const x = p.x + 16 + w > vw ? Math.max(4, p.x - 12 - w) : p.x + 16;
    const y = p.y + 16 + h > vh ? Math.max(4, p.y - 12 - h) : p.y + 16;
    t.style.left = `${x}px`;
    t.style.top = `${y}px`;
  }

  // Caller text goes in as text (textContent), never as HTML.
  fillTooltip(g) {
    const key = g.getAttribute("data-dv-key");
    const t = this.tooltip;
    t.replaceChildren();
    const heading = el("strong");
    heading.textContent = g.getAttribute("data-dv-label") || key;
    t.append(heading);
    const rows = this.nodes[key];
    if (rows && Object.keys(rows).length) {
      const table = el("table");
      for (const [label, value] of Object.entries(rows)) {
        const tr = el("tr");
        const th = el("th");
        const td = el("td");
        th.textContent = label;
        td.textContent = value;
        tr.append(th, td);
        table.append(tr);
      }
      t.append(table);
    }
    const hint = key in this.toggles ? this.toggles[key] || "click to fold or unfold" : "";
    if (hint) {
      const em = el("em");
      em.textContent = hint;
      t.append(em);
    }
    t.dataset.node = key;
  }

  hideTooltip() {
    this.hovered = null;
    this.tooltip.hidden = true;
  }

  onResize() {
    if (!this.svg) return;
    const width = this.root.clientWidth;
    const height = window.innerHeight;
    if (width === this.lastWidth && height === this.lastHeight && !this.isFullscreen()) return;
    const old = this.lastWidth;
    this.lastWidth = width;
    this.lastHeight = height;
    if (!this.touched) {
      this.startView();
    } else {
      if (old) this.tx += (width - old) / 2;
      this.clampPan();
      this.apply();
    }
  }

  toggleFullscreen() {
    const inside = this.root.getRootNode();
    if (inside.fullscreenElement === this.root) {
      document.exitFullscreen();
      return;
    }
    if (this.root.classList.contains("dv-max")) {
      this.root.classList.remove("dv-max");
      this.onFullscreenChange();
      return;
    }
    const fallback = () => {
      this.root.classList.add("dv-max"); // where the Fullscreen API is refused, fill the window
      this.onFullscreenChange();
    };
    if (this.root.requestFullscreen) this.root.requestFullscreen().catch(fallback);
    else fallback();
  }

  onFullscreenChange() {
    const full = this.isFullscreen();
    this.root.dataset.fullscreen = full ? "1" : "";
    if (!this.svg) return;
    // Keep the point at the centre of the view at the centre of the new, larger or smaller, view.
    const before = this.viewSize();
    const cx = (before.vw / 2 - this.tx) / this.s;
    const cy = (before.vh / 2 - this.ty) / this.s;
    if (full) this.viewport.style.height = "";
    else this.sizeViewport();
    requestAnimationFrame(() => {
      if (!this.touched) {
        this.startView();
        return;
      }
      const { vw, vh } = this.viewSize();
      this.tx = vw / 2 - cx * this.s;
      this.ty = vh / 2 - cy * this.s;
      this.clampPan();
      this.apply();
    });
  }

  // -- minimap: a canvas copy of the boxes and edges, not a second live DOM of every node ----------
  // Drawn once per diagram, at a scale where its shorter side is at least MINIMAP_SHORT_PX; when
  // its longer side is then longer than the box (a 600-block column), the drawing slides through
  // the box as the view moves through the diagram, as a code editor's minimap does. (An <img> of
  // the SVG would look the same but makes the browser rasterise the whole SVG on the main thread:
  // half a second for ResNet-1202.)

  buildMinimap(paint) {
    const t = performance.now();
    const dpr = window.devicePixelRatio || 1;
    ({ m: this.m, mw: this.mw, mh: this.mh } = minimapSize(this.gw, this.gh, this.minimapCap()));
    this.minimap.style.width = `${this.mw}px`;
    this.minimap.style.height = `${this.mh}px`;
    const canvas = this.minimapCanvas;
    canvas.width = Math.ceil(this.gw * this.m * dpr);
    canvas.height = Math.ceil(this.gh * this.m * dpr);
    canvas.style.width = `${this.gw * this.m}px`;
    canvas.style.height = `${this.gh * this.m}px`;
    drawOverview(this.svg, canvas.getContext("2d"), this.m * dpr);
    if (paint === this.paints) this.root.dataset.minimapMs = String(Math.round(performance.now() - t));
    this.drawMinimapView();
  }

  // Where the view lies in minimap px, and how far the image is slid along each axis.
  minimapGeometry() {
    const { vw, vh } = this.viewSize();
    const axis = (t, v, g, box) => {
      const start = -t / this.s; // the view's first user unit along this axis
      const length = v / this.s;
      const slack = g * this.m - box;
      const offset = slack > 0 ? clamp(start / Math.max(1, g - length), 0, 1) * slack : 0;
      return { offset, a: start * this.m - offset, b: (start + length) * this.m - offset };
    };
    return { x: axis(this.tx, vw, this.gw, this.mw), y: axis(this.ty, vh, this.gh, this.mh) };
  }

  drawMinimapView() {
    if (!this.svg || !this.mw) return;
    const { vw, vh } = this.viewSize();
    const overflow = this.s * this.gw > vw + 1 || this.s * this.gh > vh + 1;
    this.minimap.hidden = !overflow;
    this.root.dataset.minimap = overflow ? "1" : "";
    if (!overflow) return;
    const { x, y } = this.minimapGeometry();
    this.minimapCanvas.style.transform = `translate(${-x.offset}px, ${-y.offset}px)`;
    const left = clamp(x.a, 0, this.mw);
    const top = clamp(y.a, 0, this.mh);
    const v = this.minimapView.style;
    v.left = `${left}px`;
    v.top = `${top}px`;
    v.width = `${Math.max(4, clamp(x.b, 0, this.mw) - left)}px`;
    v.height = `${Math.max(4, clamp(y.b, 0, this.mh) - top)}px`;
  }

  onMinimap(e) {
    e.stopPropagation();
    if (e.type === "pointerdown") {
      capture(this.minimap, e.pointerId);
    } else if (!(e.buttons & 1)) {
      return;
    }
    const r = this.minimap.getBoundingClientRect();
    const { x, y } = this.minimapGeometry();
    const ux = clamp((clamp(e.clientX - r.left, 0, this.mw) + x.offset) / this.m, 0, this.gw);
    const uy = clamp((clamp(e.clientY - r.top, 0, this.mh) + y.offset) / this.m, 0, this.gh);
    const { vw, vh } = this.viewSize();
    this.tx = vw / 2 - this.s * ux;
    this.ty = vh / 2 - this.s * uy;
    this.touched = true;
    this.clampPan();
    this.apply();
  }

  // -- legend ------------------------------------------------------------------------------------

  drawLegend(items) {
    this.legend.replaceChildren();
    for (const item of items) {
      const li = el("li");
      li.append(swatch(item));
      const text = el("span");
      text.textContent = item.text;
      li.append(text);
      if (item.title) li.title = item.title;
      this.legend.append(li);
    }
    this.legend.hidden = items.length === 0;
  }
}

// -- helpers on the parsed SVG ----------------------------------------------------------------------

// Graphviz's SVG carries no script; a caller's DOT could still ask for links (URL/href) or an SVG
// could carry handlers. None of that may run: strip scripts, foreign objects, handlers and links.
function sanitize(svg, text) {
  for (const bad of svg.querySelectorAll("script, foreignObject, iframe")) bad.remove();
  for (const a of svg.querySelectorAll("a")) {
    a.removeAttribute("href");
    a.removeAttribute("xlink:href");
    a.removeAttributeNS("http://www.w3.org/1999/xlink", "href");
  }
  if (/\son[a-z]+\s*=/i.test(text)) {
    for (const node of [svg, ...svg.querySelectorAll("*")]) {
      for (const attr of [...node.attributes]) if (/^on/i.test(attr.name)) node.removeAttribute(attr.name);
    }
  }
}

// key → <g> for every node and cluster (see the note at the top on keys).
function indexNodes(svg) {
  const index = new Map();
  for (const g of svg.querySelectorAll("g.node, g.cluster")) {
    const title = g.querySelector(":scope > title");
    const name = title ? title.textContent : "";
    const key = g.id && !GRAPHVIZ_IDS.test(g.id) ? g.id : name;
    if (!key) continue;
    g.setAttribute("data-dv-key", key);
    const first = g.querySelector("text");
    if (first) g.setAttribute("data-dv-label", first.textContent);
    if (!index.has(key)) index.set(key, g);
  }
  return index;
}

// The smallest font size drawn, in SVG user units (Graphviz writes one font-size per <text>).
function smallestFont(svg) {
  let min = Infinity;
  for (const t of svg.querySelectorAll("text")) {
    const size = parseFloat(t.getAttribute("font-size"));
    if (size > 0 && size < min && t.textContent.trim()) min = size;
  }
  if (!Number.isFinite(min)) return 14;
  const graph = svg.querySelector("g.graph");
  const m = graph && graph.getAttribute("transform");
  const scale = m && /scale\(\s*([\d.]+)/.exec(m);
  return min * (scale ? parseFloat(scale[1]) || 1 : 1);
}

// The minimap's scale (px per SVG unit) and box size for a diagram of gw × gh SVG units.
function minimapSize(gw, gh, cap = MINIMAP_PX) {
  const long = Math.max(gw, gh);
  const dpr = window.devicePixelRatio || 1;
  const short = Math.min(MINIMAP_SHORT_PX, cap / 2);
  const m = Math.min(Math.max(cap / long, short / Math.min(gw, gh)), MINIMAP_CANVAS_PX / (long * dpr));
  return { m, mw: Math.min(cap, Math.round(gw * m)), mh: Math.min(cap, Math.round(gh * m)) };
}

// The diagram's boxes, clusters and edges on a canvas, at `scale` device px per SVG user unit.
// Graphviz puts every cluster, node and edge <g> directly in the graph's <g>, so one matrix (the
// graph's transform) maps all their coordinates into the SVG's user space.
function drawOverview(svg, ctx, scale) {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  const graph = svg.querySelector("g.graph");
  const m = (graph && graph.getCTM()) || new DOMMatrix();
  ctx.setTransform(scale * m.a, scale * m.b, scale * m.c, scale * m.d, scale * m.e, scale * m.f);
  const hairline = 1 / scale;
  const shapes = svg.querySelectorAll(
    "g.cluster > polygon, g.cluster > path, g.node > polygon, g.node > path, g.node > ellipse, g.edge > path",
  );
  for (const shape of shapes) {
    let path;
    if (shape.tagName === "ellipse") {
      path = new Path2D();
      const [cx, cy, rx, ry] = ["cx", "cy", "rx", "ry"].map((a) => parseFloat(shape.getAttribute(a)) || 0);
      path.ellipse(cx, cy, rx, ry, 0, 0, 2 * Math.PI);
    } else if (shape.tagName === "polygon") {
      path = new Path2D(`M${shape.getAttribute("points")}Z`);
    } else {
      path = new Path2D(shape.getAttribute("d") || "");
    }
    const fill = shape.getAttribute("fill");
    if (fill && fill !== "none" && fill !== "transparent") {
      ctx.fillStyle = fill;
      ctx.fill(path);
    }
    const stroke = shape.getAttribute("stroke");
    if (stroke && stroke !== "none" && stroke !== "transparent") {
      ctx.strokeStyle = stroke;
      ctx.lineWidth = Math.max(parseFloat(shape.getAttribute("stroke-width")) || 1, hairline);
      ctx.stroke(path);
    }
  }
}

function graphTitle(svg) {
  const graph = svg.querySelector("g.graph");
  const label = graph && graph.querySelector(":scope > text");
  return label ? label.textContent : "";
}

function isDark(root) {
  const bg = getComputedStyle(root).getPropertyValue("--st-background-color").trim();
  const m = /^#([0-9a-f]{6})$/i.exec(bg) || null;
  if (!m) return false;
  const n = parseInt(m[1], 16);
  const lum = (0.2126 * ((n >> 16) & 255) + 0.7152 * ((n >> 8) & 255) + 0.0722 * (n & 255)) / 255;
  return lum < 0.5;
}

// A legend swatch: a short edge (line) or a small box, in the caller's Graphviz-like style.
function swatch(item) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", "dv-swatch");
  svg.setAttribute("viewBox", "0 0 30 16");
  svg.setAttribute("aria-hidden", "true");
  const color = item.color || "#555555";
  if (item.kind === "node") {
    const box = document.createElementNS(SVG_NS, "rect");
    Object.entries({ x: 4, y: 3, width: 22, height: 10, rx: 2 }).forEach(([k, v]) => box.setAttribute(k, v));
    box.setAttribute("fill", item.fill || "#ffffff");
    box.setAttribute("stroke", color);
    box.setAttribute("stroke-width", String(Math.min(item.width || 1.5, 3)));
    svg.append(box);
    if (item.double) {
      const outer = document.createElementNS(SVG_NS, "rect");
      Object.entries({ x: 1.5, y: 0.8, width: 27, height: 14.4, rx: 3 }).forEach(([k, v]) =>
        outer.setAttribute(k, v),
      );
      outer.setAttribute("fill", "none");
      outer.setAttribute("stroke", color);
      outer.setAttribute("stroke-width", "1");
      svg.append(outer);
    }
  } else {
    const line = document.createElementNS(SVG_NS, "line");
    Object.entries({ x1: 3, y1: 8, x2: 27, y2: 8 }).forEach(([k, v]) => line.setAttribute(k, v));
    line.setAttribute("stroke", color);
    line.setAttribute("stroke-width", String(Math.min(item.width || 2, 5)));
    const dash = { dashed: "5 3", dotted: "1.5 3" }[item.dash];
    if (dash) line.setAttribute("stroke-dasharray", dash);
    if (item.dash === "dotted") line.setAttribute("stroke-linecap", "round");
    svg.append(line);
  }
  return svg;
}
