// 增援 in the warning drawer: for a zone's warning, which posts can release how many officers with the
// least loss of cover (GET …/reinforcement), their paths on the map, and one click to give the units an
// 增援 task (they see it on the phone).
import {api, AuthError} from "./api.js";
import {el, num} from "./format.js";
import {t} from "./i18n.js";

export class ReinforcePanel {
  constructor(root, store, incidentLayer, {toast}) {
    this.root = root;
    this.store = store;
    this.layer = incidentLayer;
    this.toast = toast;
    this.warning = null;
    this.plan = null;
  }

  /** Show the panel for a warning (null hides it). Only warnings of a zone can be reinforced. */
  show(warning) {
    this.warning = warning;
    this.plan = null;
    this.layer.showPaths([]);
    if (!warning?.zone_id || !this.store.features.incidents) {
      this.root.hidden = true;
      return;
    }
    this.root.hidden = false;
    const need = el("input", {type: "number", min: 1, max: 200, value: 4, class: "rf-need"});
    this.root.replaceChildren(
      el("h3", {}, t("rf.title")),
      el("div", {class: "dw-actions"}, el("label", {}, t("rf.need"), " ", need),
        el("button", {type: "button", class: "btn small", onclick: () => this.load(Number(need.value))}, t("rf.compute"))),
      el("div", {class: "rf-out"}));
  }

  async load(need) {
    const out = this.root.querySelector(".rf-out");
    if (!(need >= 1)) {
      out.replaceChildren(el("div", {class: "err"}, t("rf.badNeed")));
      return;
    }
    out.replaceChildren(el("div", {class: "muted"}, t("inc.recLoading")));
    try {
      this.plan = await api(this.store.url("/reinforcement"), {query: {zone_id: this.warning.zone_id, need}});
    } catch (err) {
      if (err instanceof AuthError) return;
      out.replaceChildren(el("div", {class: "err"}, err.message));
      return;
    }
    const p = this.plan;
    this.layer.showPaths(p.moves.map((m) => ({coords: m.path.coordinates, straight: m.route === "straight_line"})));
    out.replaceChildren(
      el("div", {class: p.short ? "err" : "muted"}, p.message),
      el("ul", {class: "recs"}, p.moves.map((m) => el("li", {class: "rec"},
        el("b", {class: "mono"}, m.call_sign),
        el("span", {}, t("rf.from", {post: m.post_name, n: m.officers})),
        m.below_min ? el("span", {class: "chip crit"}, t("rf.belowMin")) : "",
        el("span", {class: "rec-eta"}, t("inc.eta", {min: num(m.eta_s / 60, 1)}))))),
      p.moves.length ? el("button", {type: "button", class: "btn primary small", onclick: () => this.order()}, t("rf.order")) : "");
  }

  /** One 增援 task per unit moved, for the warning's zone. */
  async order() {
    const p = this.plan;
    const zone = this.store.zoneName(p.zone_id);
    try {
      for (const unitId of [...new Set(p.moves.map((m) => m.unit_id))]) {
        const m = p.moves.find((x) => x.unit_id === unitId);
        await api(this.store.url("/tasks"), {method: "POST", body: {
          title: t("rf.taskTitle", {zone}), detail: t("rf.taskDetail", {post: m.post_name, n: m.officers}),
          unit_id: unitId, zone_id: p.zone_id, warning_id: this.warning.id}});
      }
      this.toast(t("rf.ordered", {n: new Set(p.moves.map((m) => m.unit_id)).size}));
      this.root.querySelector(".rf-out").replaceChildren(el("div", {class: "muted"}, t("rf.done")));
      this.layer.showPaths([]);
    } catch (err) {
      if (err instanceof AuthError) return;
      this.root.querySelector(".rf-out").append(el("div", {class: "err"}, err.message));
    }
  }
}
