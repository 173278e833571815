// 交通管制 on the command map: the road closures of the event drawn in red (dashed when not in force now), and
// a small editor in the corridor drawer: click points on the map (a road as a line, an area as a polygon),
// name it, say whom it stops, save; the corridor check then runs again.
/* global L */
import {api, AuthError} from "./api.js";
import {el} from "./format.js";
import {t} from "./i18n.js";

export class Closures {
  constructor(root, store, mapView, {onSaved}) {
    this.root = root; // the editor's container inside the corridor drawer
    this.store = store;
    this.view = mapView;
    this.onSaved = onSaved;
    this.layer = L.layerGroup().addTo(mapView.map);
    this.sketch = L.layerGroup().addTo(mapView.map);
    this.points = null; // [LatLng] while drawing
    mapView.map.on("preclick", (ev) => {
      if (!this.points) return;
      this.points.push(ev.latlng);
      this.drawSketch();
    });
    this.load();
  }

  async load() {
    try {
      this.items = await api(this.store.url("/road-closures"), {query: {limit: 1000}});
    } catch (err) {
      if (!(err instanceof AuthError)) this.items = [];
      return;
    }
    this.draw();
  }

  active(c, now = Date.now()) {
    return c.enabled && new Date(c.starts_at) <= now && (!c.ends_at || new Date(c.ends_at) > now);
  }

  draw() {
    this.layer.clearLayers();
    for (const c of this.items || []) {
      const style = {color: "#f03a3a", weight: 5, opacity: this.active(c) ? 0.95 : 0.45, dashArray: this.active(c) ? null : "6 6",
        fillColor: "#f03a3a", fillOpacity: this.active(c) ? 0.18 : 0.06};
      const g = c.geometry;
      const shapeOf = (coords) => coords.map((p) => this.view.ll(p));
      let shape = null;
      if (g.type === "LineString") shape = L.polyline(shapeOf(g.coordinates), style);
      else if (g.type === "Polygon") shape = L.polygon(g.coordinates.map(shapeOf), style);
      else if (g.type === "MultiPolygon") shape = L.polygon(g.coordinates.map((p) => p.map(shapeOf)), style);
      if (!shape) continue;
      shape.bindTooltip(el("div", {}, el("div", {class: "tip-title"}, c.name), el("div", {}, t(`cl.${c.applies_to}`)),
        c.reason ? el("div", {}, c.reason) : ""), {className: "tip", sticky: true});
      shape.addTo(this.layer);
    }
  }

  /** The editor: a form, then points clicked on the map. */
  renderEditor() {
    const form = el("form", {class: "cl-form"},
      el("h3", {}, t("cl.title")),
      el("input", {name: "name", maxlength: 200, placeholder: t("cl.nameHint")}),
      el("select", {name: "kind", class: "select"}, el("option", {value: "line"}, t("cl.line")), el("option", {value: "area"}, t("cl.area"))),
      el("select", {name: "applies", class: "select"}, el("option", {value: "vehicles"}, t("cl.vehicles")),
        el("option", {value: "everyone"}, t("cl.everyone"))),
      el("div", {class: "dw-actions"},
        el("button", {type: "button", class: "btn small cl-draw", onclick: () => this.start()}, t("cl.draw")),
        el("button", {type: "submit", class: "btn primary small"}, t("cl.save")),
        el("span", {class: "dw-msg cl-msg"})));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.save(form);
    });
    this.root.replaceChildren(form);
  }

  start() {
    this.points = [];
    this.sketch.clearLayers();
    this.view.map.getContainer().classList.add("picking");
    this.root.querySelector(".cl-msg").textContent = t("cl.clickPoints");
  }

  drawSketch() {
    this.sketch.clearLayers();
    const area = this.root.querySelector("select[name=kind]").value === "area";
    (area && this.points.length >= 3 ? L.polygon(this.points, {color: "#f03a3a", dashArray: "4 4"})
      : L.polyline(this.points, {color: "#f03a3a", dashArray: "4 4"})).addTo(this.sketch);
    this.root.querySelector(".cl-msg").textContent = t("cl.points", {n: this.points.length});
  }

  async save(form) {
    const msg = this.root.querySelector(".cl-msg");
    msg.classList.remove("err");
    const area = form.elements.kind.value === "area";
    const pts = (this.points || []).map((p) => this.view.unll(p));
    if (pts.length < (area ? 3 : 2) || !form.elements.name.value.trim()) {
      msg.textContent = t(area ? "cl.needArea" : "cl.needLine");
      msg.classList.add("err");
      return;
    }
    const geometry = area ? {type: "Polygon", coordinates: [[...pts, pts[0]]]} : {type: "LineString", coordinates: pts};
    try {
      await api(this.store.url("/road-closures"), {method: "POST", body: {name: form.elements.name.value.trim(),
        geometry, applies_to: form.elements.applies.value, starts_at: new Date().toISOString()}});
    } catch (err) {
      if (err instanceof AuthError) return;
      msg.textContent = err.message;
      msg.classList.add("err");
      return;
    }
    this.points = null;
    this.sketch.clearLayers();
    this.view.map.getContainer().classList.remove("picking");
    form.reset();
    msg.textContent = t("cl.saved");
    await this.load();
    this.onSaved();
  }

  stop() {
    this.points = null;
    this.sketch.clearLayers();
    this.view.map.getContainer().classList.remove("picking");
  }
}
