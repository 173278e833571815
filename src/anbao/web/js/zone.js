// Zone detail: figures of the selected zone and its ECharts trend of count and density (the last
// hour from GET /zone-history, then extended by every live zone-state message for that zone).
import {api, AuthError} from "./api.js";
import {el, num, density as fmtDensity} from "./format.js";
import {makeChart, zoneTrendOption} from "./charts.js";
import {t} from "./i18n.js";
import {levelLabel, NO_LEVEL, vocabLabel} from "./vocab.js";

const STEADY = 0.02; // persons/m2 per minute below which a density counts as steady

function trendText(v) {
  if (v === null || v === undefined) return "—";
  const arrow = v > STEADY ? "\u2191" : v < -STEADY ? "\u2193" : "\u2192";
  return `${arrow} ${v > 0 ? "+" : ""}${num(v, 2)}`;
}

function trendClass(v) {
  return v !== null && v !== undefined && v > STEADY ? "rising" : "";
}

export class ZonePanel {
  constructor(root, store) {
    this.root = root;
    this.store = store;
    this.id = null;
    this.series = null;
    this.info = root.querySelector(".zd-info");
    this.chartBox = root.querySelector(".zd-chart");
    this.chart = null;
    store.on("zones", ({ids, at}) => {
      if (this.id !== null && ids.includes(this.id)) {
        this.renderInfo();
        this.append(at);
      }
    });
  }

  thresholds() {
    return this.store.densityLevels(this.store.zones.get(this.id)?.props.kind);
  }

  async show(id) {
    this.id = id;
    this.series = null;
    this.renderInfo();
    if (!this.chart) this.chart = makeChart(this.chartBox);
    this.chart.clear();
    this.chart.showLoading("default", {text: t("common.loading"), color: "#6fa8ff", textColor: "#c9d6e3", maskColor: "rgba(11,22,34,0.6)"});
    try {
      const h = await api(this.store.url("/zone-history"), {query: {zone_id: id}});
      if (this.id !== id) return;
      const s = h.zones[0];
      const times = h.times.map((x) => new Date(x).getTime());
      // start where the record starts (a fresh event has minutes, not an hour, of readings)
      const from = h.data_since ? Math.max(0, times.findIndex((x) => x >= new Date(h.data_since).getTime()) - 1) : 0;
      this.series = {times: times.slice(from), count: s.count.slice(from), density: s.density.slice(from)};
      this.drawChart();
    } catch (err) {
      if (!(err instanceof AuthError)) this.chartBox.dataset.error = err.message;
    } finally {
      this.chart.hideLoading();
    }
  }

  append(at) {
    if (!this.series) return;
    const z = this.store.zones.get(this.id);
    const x = at ? new Date(at).getTime() : Date.now();
    const last = this.series.times[this.series.times.length - 1];
    if (x - last < 5000) return;
    this.series.times.push(x);
    this.series.count.push(z.state.count);
    this.series.density.push(z.state.density);
    while (this.series.times.length && this.series.times[0] < x - 3600 * 1000) {
      this.series.times.shift();
      this.series.count.shift();
      this.series.density.shift();
    }
    this.drawChart();
  }

  drawChart() {
    if (!this.series || !this.chart) return;
    this.chart.setOption(zoneTrendOption({...this.series, thresholds: this.thresholds()}), {notMerge: true});
  }

  renderInfo() {
    const z = this.store.zones.get(this.id);
    if (!z) {
      this.info.replaceChildren(el("div", {class: "muted"}, t("zone.pick")));
      return;
    }
    const s = z.state;
    const cap = z.props.standing_capacity ?? z.props.seated_capacity;
    const cell = (label, value, cls = "") => el("div", {class: `zd-cell ${cls}`}, el("span", {}, label), el("b", {}, value));
    this.info.replaceChildren(
      el("div", {class: "zd-title"}, el("span", {class: "zd-name"}, z.props.name),
        el("span", {class: `chip lv-${s.level || NO_LEVEL}`}, levelLabel(s.level || NO_LEVEL))),
      el("div", {class: "zd-sub muted"}, `${z.props.code} · ${vocabLabel("zone_kind", z.props.kind)} · ${t("zone.ring", {n: z.props.ring})}`),
      el("div", {class: "zd-grid"},
        cell(t("zone.count"), num(s.count)),
        cell(t("zone.density"), `${fmtDensity(s.density)}`, `lvtext lv-${s.level || NO_LEVEL}`),
        cell(t("zone.area"), `${num(z.props.area_m2)} ${t("unit.m2")}`),
        cell(t("zone.capacity"), cap ? num(cap) : "—"),
        cell(t("zone.trend"), trendText(s.trend_per_min), trendClass(s.trend_per_min)),
        cell(t("zone.forecast"), s.forecast_density === null || s.forecast_density === undefined ? "—" : fmtDensity(s.forecast_density)),
        cell(t("zone.flows"), s.flow_in_per_min === null || s.flow_in_per_min === undefined ? "—"
          : t("zone.flowsValue", {in: num(s.flow_in_per_min), out: num(s.flow_out_per_min)})),
        cell(t("zone.source"), s.source ? t(`source.${s.source}`) : "—"),
        cell(t("zone.sensors"), t("zone.sensorsUsed", {used: (s.used || []).length, stale: (s.stale || []).length}))));
  }

  relabel() {
    this.renderInfo();
    this.drawChart();
  }
}
