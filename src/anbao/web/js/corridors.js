// 应急通道 check on the command map: which zones ambulances and fire engines can no longer reach (or only
// slowly) under the road closures in force (GET …/corridors). Zones that are not ok get a dashed outline
// (red: unreachable, orange: slower) and are listed in a drawer, the worst first.
/* global L */
import {api, ApiError, AuthError} from "./api.js";
import {el, num} from "./format.js";
import {t} from "./i18n.js";

const COLORS = {unreachable: "#f03a3a", slower: "#ff8a1c"};

export class CorridorCheck {
  constructor(root, store, mapView) {
    this.root = root;
    this.store = store;
    this.view = mapView;
    this.outlines = L.layerGroup().addTo(mapView.map);
    root.querySelector(".dw-close").addEventListener("click", () => this.close());
  }

  async open() {
    this.root.hidden = false;
    const body = this.root.querySelector(".dw-body");
    body.replaceChildren(el("div", {class: "muted"}, t("cor.loading")));
    let res;
    try {
      res = await api(this.store.url("/corridors"));
    } catch (err) {
      if (err instanceof AuthError) return;
      body.replaceChildren(el("div", {class: "err"}, err instanceof ApiError && err.status === 409 ? t("cor.noRoads") : err.message));
      return;
    }
    const bad = res.zones.filter((z) => z.status !== "ok");
    this.outlines.clearLayers();
    for (const z of bad) {
      const zone = this.store.zones.get(z.zone_id);
      if (!zone) continue;
      L.polygon(this.view.rings(zone.feature.geometry), {color: COLORS[z.status], weight: 4, dashArray: "8 6",
        fill: false, interactive: false}).addTo(this.outlines);
    }
    const mins = (s) => (s === null || s === undefined ? "—" : num(s / 60, 1));
    body.replaceChildren(
      el("div", {class: bad.length ? "err" : "ok-msg"}, bad.length ? t("cor.bad", {n: bad.length, closures: res.closures})
        : t("cor.allOk", {n: res.zones.length, closures: res.closures})),
      el("table", {class: "units cor"}, el("thead", {}, el("tr", {},
        el("th", {}, t("cor.zone")), el("th", {}, t("cor.status")), el("th", {}, t("cor.in")), el("th", {}, t("cor.out")))),
      el("tbody", {}, res.zones.slice(0, 200).map((z) => el("tr", {class: `cor-${z.status}`},
        el("td", {}, z.zone_name), el("td", {}, t(`cor.${z.status}`)),
        el("td", {}, `${mins(z.in_open_s)} → ${mins(z.in_closed_s)}`),
        el("td", {}, `${mins(z.out_open_s)} → ${mins(z.out_closed_s)}`))))),
      el("div", {class: "muted small"}, t("cor.note", {factor: res.factor, access: res.access_points})));
  }

  close() {
    this.root.hidden = true;
    this.outlines.clearLayers();
  }
}
