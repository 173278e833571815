// 容量核定: the venue's safe capacity (Green Guide: the least of holding, entry, normal egress and
// emergency evacuation capacity) with its working, every zone's figures, and the settings (times,
// density, a safety factor per zone) saved with PUT capacity-settings.
import {el, num} from "../format.js";
import {api} from "../api.js";
import {t} from "../i18n.js";
import {vocabLabel} from "../vocab.js";
import {clearErrors, sayDone, showErrors} from "./errors.js";
import {persons} from "./ui.js";

const root = () => document.getElementById("pane-capacity");
const LIMITS = ["holding", "entry", "exit", "emergency"];

export class CapacityTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.data = null;
    this.stepsOf = null; // zone code whose working is shown (null: the venue)
    this.factors = {};
    const form = root().querySelector("#cap-settings form");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.saveSettings();
    });
  }

  async show() {
    this.data = await api(this.ctx.url("/capacity"));
    this.factors = {...this.data.settings.safety_factors};
    this.fillSettings();
    this.render();
  }

  relabel() {
    if (this.data) this.render();
  }

  fillSettings() {
    const form = root().querySelector("#cap-settings form");
    const s = this.data.settings;
    for (const k of ["entry_min", "egress_min", "emergency_min", "density"]) form[k].value = s[k];
    for (const input of form.querySelectorAll("input")) input.disabled = !this.ctx.canEdit;
    clearErrors(root());
  }

  render() {
    this.renderVenue();
    this.renderZones();
    this.renderSteps();
  }

  renderVenue() {
    const v = this.data.venue;
    const box = root().querySelector("#venue-card .vc-body");
    if (v.error) {
      box.replaceChildren(el("div", {class: "banner bad"}, v.error));
      return;
    }
    const safe = v.safe_capacity;
    const fig = (key, value) => el("div", {class: `vc-fig${v.limiting === key ? " limit" : ""}`, dataset: {key}},
      el("span", {}, t(`plan.cap.${key}`)), el("b", {}, persons(value)),
      v.limiting === key ? el("small", {}, t("plan.cap.isLimit")) : null);
    const bar = (key, value) => {
      if (!value || !safe) return null;
      const pct = Math.round((value / safe) * 100);
      return el("div", {class: `att${value > safe ? " over" : ""}`},
        el("span", {class: "att-l"}, t(`plan.cap.${key}`)), el("b", {}, persons(value)),
        el("div", {class: "att-bar"}, el("i", {style: `width:${Math.min(100, pct)}%`})), el("span", {class: "att-pct mono"}, `${pct}%`));
    };
    box.replaceChildren(
      el("div", {class: "vc-top"},
        el("div", {class: "vc-safe"}, el("span", {}, t("plan.cap.safe")), el("b", {id: "venue-safe", dataset: {value: safe ?? ""}}, persons(safe)),
          el("small", {}, t("plan.cap.persons"))),
        el("div", {class: "vc-lim"}, el("span", {}, t("plan.cap.limitingBy")),
          el("b", {}, v.limiting ? t(`plan.cap.${v.limiting}`) : "—"),
          el("small", {class: "muted"}, t("plan.cap.evacMin", {m: num(v.evacuation_min, 1)})))),
      el("div", {class: "vc-figs"}, ...LIMITS.map((k) => fig(k, v[k]))),
      el("div", {class: "vc-att"}, bar("expected", v.expected_attendance), bar("approved", v.approved_attendance),
        bar("tickets", v.tickets_issued)),
      el("dl", {class: "facts vc-facts"},
        el("dt", {}, t("plan.cap.exitBottleneck")), el("dd", {}, t("plan.cap.pps", {n: num(v.exit_bottleneck_pps, 1)}),
          el("small", {class: "muted"}, ` · ${t("plan.cap.exitsN", {n: v.exits.length})}`)),
        el("dt", {}, t("plan.cap.entryBottleneck")), el("dd", {}, t("plan.cap.pps", {n: num(v.entry_bottleneck_pps, 1)}),
          el("small", {class: "muted"}, ` · ${t("plan.cap.entriesN", {n: v.entries.length})}`)),
        el("dt", {}, t("plan.cap.exitFlow")), el("dd", {}, t("plan.cap.ppm", {n: num(v.exit_flow_per_min, 0)}))));
  }

  renderZones() {
    const tbody = root().querySelector("#cap-zones tbody");
    const edit = this.ctx.canEdit;
    const zones = [...this.data.zones].sort((a, b) => a.ring - b.ring || a.code.localeCompare(b.code));
    root().querySelector(".cz-count").textContent = t("plan.cap.zonesN", {n: zones.length,
      over: zones.filter((z) => z.over_declared).length, bad: zones.filter((z) => z.error).length});
    const rows = [];
    for (const z of zones) {
      const factor = el("input", {type: "number", min: 0, max: 1, step: 0.05, class: "short factor", disabled: !edit,
        placeholder: "1", "data-zone": z.code, "aria-label": t("plan.cap.factorOf", {zone: z.name})});
      factor.value = this.factors[z.code] ?? "";
      factor.addEventListener("input", () => {
        if (factor.value === "") delete this.factors[z.code];
        else this.factors[z.code] = Number(factor.value);
        root().querySelector("#cap-settings").classList.add("dirty");
      });
      const lim = z.limiting ? t(`plan.cap.${z.limiting}`) : "—";
      rows.push(el("tr", {class: `pick${z.error ? " zerr" : ""}${z.over_declared ? " over" : ""}${this.stepsOf === z.code ? " sel" : ""}`,
        dataset: {code: z.code}, onclick: (ev) => {
          if (ev.target.closest("input")) return;
          this.stepsOf = this.stepsOf === z.code ? null : z.code;
          this.renderZones();
          this.renderSteps();
        }},
      el("td", {class: "zname"}, el("span", {}, z.name), el("small", {class: "mono muted"}, ` ${z.code}`)),
      el("td", {class: "muted"}, vocabLabel("zone_kind", z.kind)),
      ...LIMITS.map((k) => el("td", {class: `num${z.limiting === k ? " lim" : ""}`}, persons(z[k]))),
      el("td", {class: "num safe"}, el("b", {}, persons(z.safe_capacity))),
      el("td", {}, lim),
      el("td", {class: `num${z.over_declared ? " warn" : ""}`, title: z.over_declared ? t("plan.cap.overTip", {d: persons(z.declared), s: persons(z.safe_capacity)}) : ""},
        z.over_declared ? el("span", {class: "warn-mark"}, "\u26a0") : null, persons(z.declared)),
      el("td", {class: "num", dataset: {field: `safety_factors.${z.code}`}}, factor, el("em", {class: "fmsg"}))));
      if (z.error) {
        rows.push(el("tr", {class: "zerr-row"}, el("td", {colspan: 10}, el("span", {class: "chip sev sev-error"}, t("plan.sev.error")), " ", z.error)));
      }
    }
    tbody.replaceChildren(...rows);
  }

  renderSteps() {
    const z = this.stepsOf ? this.data.zones.find((x) => x.code === this.stepsOf) : null;
    const src = z || this.data.venue;
    root().querySelector("#cap-steps .cs-which").replaceChildren(z ? `${z.name} ${z.code}` : t("plan.cap.venueWhole"),
      z ? el("button", {type: "button", class: "btn small ghost", onclick: () => {
        this.stepsOf = null;
        this.renderZones();
        this.renderSteps();
      }}, t("plan.cap.backToVenue")) : "");
    const list = root().querySelector("#cap-steps ol.steps");
    const steps = src.steps || [];
    list.replaceChildren(...(steps.length ? steps.map((s) => el("li", {}, s))
      : [el("li", {class: "empty"}, src.error || t("plan.cap.noSteps"))]));
    if (steps.length) list.lastElementChild.classList.add("result");
    if (src.error) list.append(el("li", {class: "err"}, src.error));
  }

  async saveSettings() {
    const form = root().querySelector("#cap-settings form");
    const panel = root();
    clearErrors(panel);
    const val = (k) => (form[k].value === "" ? null : Number(form[k].value));
    const body = {entry_min: val("entry_min"), egress_min: val("egress_min"), emergency_min: val("emergency_min"),
      density: val("density"), safety_factors: this.factors};
    for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
    try {
      await api(this.ctx.url("/capacity-settings"), {method: "PUT", body});
      root().querySelector("#cap-settings").classList.remove("dirty");
      await this.show();
      sayDone(form.querySelector(".form-msg"), t("plan.cap.saved", {n: persons(this.data.venue.safe_capacity)}));
    } catch (err) {
      showErrors(panel, err, form.querySelector(".form-msg"));
    }
  }
}
