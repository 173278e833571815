// Units on the command map: the newest position each unit shared from the phone app (/m/), one dot per
// unit (a white-edged triangle, unlike the sensors' dots) coloured by its status (待命 green, 已派 blue, 处置中 orange, 休整 grey) and dimmed when the fix
// is older than STALE_MS. Drawn on one canvas (entities.js), so hundreds of moving units cost one fill per
// colour per frame; hovering (or tapping) a dot shows call sign, status, age and accuracy.
/* global L */
import {EntityLayer} from "./entities.js";
import {age, el, num} from "./format.js";
import {t} from "./i18n.js";
import {vocabLabel} from "./vocab.js";

export const UNIT_STATUS_COLORS = {available: "#2fc56b", assigned: "#2f7df6", busy: "#ff8a1c", off_duty: "#8a94a0"};
const ORDER = ["available", "assigned", "busy", "off_duty"];
const STALE_COLOR = "#4a535e";
export const STALE_MS = 5 * 60 * 1000;
const HIT_PX = 10;

export class UnitLayer {
  /** mapView: the MapView (its map and ll()); store: the Store (units, positions). */
  constructor(mapView, store) {
    this.view = mapView;
    this.store = store;
    this.layer = new EntityLayer({pane: "unitsPane", radius: 6, stroke: "#ffffff", lineWidth: 1.5, shape: "triangle",
      colors: [...ORDER.map((s) => UNIT_STATUS_COLORS[s]), STALE_COLOR]});
    this.ids = [];
    this.tip = L.tooltip({className: "tip unit-tip", direction: "top", offset: [0, -8]});
    this.hover = null;
    const map = mapView.map;
    map.createPane("unitsPane").style.zIndex = 640;
    map.getPane("unitsPane").style.pointerEvents = "none";
    map.on("mousemove", (ev) => this.pointer(ev.containerPoint));
    map.on("click", (ev) => this.pointer(ev.containerPoint));
    map.on("mouseout", () => this.hide());
    store.on("positions", () => this.draw());
    store.on("units", () => this.draw());
    store.on("snapshot", () => this.draw());
    this.timer = setInterval(() => this.draw(), 30000); // fixes go stale without a message
    this.draw();
  }

  /** Positions as arrays for the canvas; a unit without a known status gets the 待命 colour. */
  draw() {
    const items = [...this.store.positions.values()];
    const n = items.length;
    const lat = new Float64Array(n);
    const lng = new Float64Array(n);
    const color = new Uint8Array(n);
    const now = Date.now();
    this.ids = items.map((p) => p.unit_id);
    items.forEach((p, i) => {
      const ll = this.view.ll([p.lon, p.lat]);
      lat[i] = ll.lat;
      lng[i] = ll.lng;
      const status = this.store.units.get(p.unit_id)?.status;
      color[i] = now - new Date(p.at).getTime() > STALE_MS ? ORDER.length : Math.max(0, ORDER.indexOf(status));
    });
    this.layer.setData(lat, lng, color);
    if (this.hover !== null) this.show(this.hover);
  }

  /** The unit whose dot is nearest to a container point, within HIT_PX pixels; null when none. */
  hit(point) {
    if (!this.view.map.hasLayer(this.layer)) return null;
    let best = null;
    let bestD = HIT_PX * HIT_PX;
    const {lat, lng} = this.layer;
    for (let i = 0; i < this.ids.length; i++) {
      const p = this.view.map.latLngToContainerPoint([lat[i], lng[i]]);
      const d = (p.x - point.x) ** 2 + (p.y - point.y) ** 2;
      if (d <= bestD) {
        bestD = d;
        best = this.ids[i];
      }
    }
    return best;
  }

  pointer(point) {
    const id = this.hit(point);
    if (id === null) this.hide();
    else this.show(id);
  }

  show(unitId) {
    const p = this.store.positions.get(unitId);
    if (!p) {
      this.hide();
      return;
    }
    this.hover = unitId;
    const u = this.store.units.get(unitId);
    const status = u ? vocabLabel("unit_status", u.status) : "";
    const rows = [el("b", {}, u?.call_sign || p.call_sign || `#${unitId}`), u?.name ? ` ${u.name}` : "",
      el("div", {}, status), el("div", {class: "muted"}, t("units.fix", {age: age(new Date(p.at)),
        acc: p.accuracy_m === null || p.accuracy_m === undefined ? "—" : num(p.accuracy_m)}))];
    this.tip.setLatLng(this.view.ll([p.lon, p.lat])).setContent(el("div", {}, ...rows));
    if (!this.view.map.hasLayer(this.tip)) this.tip.addTo(this.view.map);
  }

  hide() {
    this.hover = null;
    if (this.view.map.hasLayer(this.tip)) this.view.map.removeLayer(this.tip);
  }
}
