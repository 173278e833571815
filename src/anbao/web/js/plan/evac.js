// 疏散推演: start an evacuation run (the macroscopic model for the venue or one zone, JuPedSim for the
// detail of one zone), follow its progress every 500 ms, then show the clearance time, the flow per exit,
// when each zone is clear, the zones' populations over time, the density heat-map (JuPedSim) and the
// comparison with the capacity calculation.
/* global echarts */
import {api, blobUrl} from "../api.js";
import {makeChart} from "../charts.js";
import {el, num} from "../format.js";
import {t} from "../i18n.js";
import {vocabLabel} from "../vocab.js";
import {clearErrors, sayServer, showErrors} from "./errors.js";
import {mmss, persons} from "./ui.js";

const POLL_MS = 500;
const root = () => document.getElementById("pane-evac");
const AXIS = {axisLine: {lineStyle: {color: "#3a4d63"}}, axisLabel: {color: "#9fb2c6"}, splitLine: {lineStyle: {color: "#1d2b3a"}}};
const PALETTE = ["#4d9cff", "#4fd1c5", "#f5c518", "#ff8a1c", "#c678dd", "#2fc56b", "#f03a3a", "#8fb4ff", "#e5a1ff", "#9be7c4",
  "#ffd27a", "#ff9f9f", "#7fc8ff", "#b7e36b"];
const TOOLTIP = {backgroundColor: "#0f1c2b", borderColor: "#35506b", textStyle: {color: "#e6eef6"}};

export class EvacTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.model = "macro";
    this.run = null;
    this.poll = 0; // generation of the polling loop (a new run stops the old loop)
    this.charts = [];
    this.heatUrl = null;
    const form = root().querySelector("#evac-form");
    for (const b of form.querySelectorAll("[data-model]")) b.addEventListener("click", () => this.setModel(b.dataset.model));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.start();
    });
    this.filled = false;
  }

  async show() {
    if (!this.filled) {
      this.fillZones();
      this.setModel(this.model);
      this.filled = true;
    }
  }

  relabel() {
    this.fillZones();
    this.setModel(this.model);
    if (this.run) this.render();
  }

  fillZones() {
    const form = root().querySelector("#evac-form");
    const keep = form.zone.value;
    const sel = form.zone;
    sel.replaceChildren(el("option", {value: ""}, t(this.model === "macro" ? "plan.evac.wholeVenue" : "plan.evac.pickZone")));
    const groups = new Map();
    for (const z of this.ctx.zones) {
      if (z.ring > 2) continue; // outer ring: plazas, roads and stops are where people go, not where they leave
      const g = vocabLabel("zone_kind", z.kind);
      if (!groups.has(g)) groups.set(g, el("optgroup", {label: g}));
      groups.get(g).append(el("option", {value: z.code}, `${z.name} (${z.code})`));
    }
    sel.append(...groups.values());
    sel.value = keep;
  }

  setModel(model) {
    this.model = model;
    const form = root().querySelector("#evac-form");
    for (const b of form.querySelectorAll("[data-model]")) b.classList.toggle("on", b.dataset.model === model);
    form.agents.disabled = model !== "jupedsim";
    form.querySelector(".model-hint").textContent = t(model === "macro" ? "plan.evac.macroHint" : "plan.evac.jpsHint");
    form.zone.options[0].textContent = t(model === "macro" ? "plan.evac.wholeVenue" : "plan.evac.pickZone");
  }

  async start() {
    const form = root().querySelector("#evac-form");
    clearErrors(form);
    const num0 = (k) => (form[k].value === "" ? null : Number(form[k].value));
    const body = {model: this.model, zone: form.zone.value || null, agents: this.model === "jupedsim" ? num0("agents") : null,
      max_s: num0("max_s")};
    const button = form.querySelector(".evac-start");
    button.disabled = true;
    const gen = ++this.poll;
    const t0 = performance.now();
    this.asked = body;
    this.progress(0, true);
    try {
      let run = await api(this.ctx.url("/evacuation-runs"), {method: "POST", body});
      this.run = run;
      if (run.status === "running") this.renderRunning(body);
      while (run.status === "running" && gen === this.poll) {
        this.progress(run.progress, true);
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (gen !== this.poll) return;
        run = await api(this.ctx.url(`/evacuation-runs/${encodeURIComponent(run.id)}`));
        this.run = run;
      }
      this.elapsed = (performance.now() - t0) / 1000;
      this.progress(run.progress ?? 1, false);
      await this.render();
    } catch (err) {
      this.progress(0, false);
      showErrors(form, err);
    } finally {
      if (gen === this.poll) button.disabled = false;
    }
  }

  renderRunning(body) {
    this.disposeCharts();
    const zone = body.zone ? this.ctx.zoneByCode.get(body.zone) : null;
    root().querySelector("#evac-result .er-what").textContent = "";
    root().querySelector("#evac-result .er-body").replaceChildren(el("div", {class: "empty running"},
      el("div", {class: "empty-title"}, t("plan.evac.runningTitle")),
      el("div", {}, `${t(`plan.evac.${body.model === "jupedsim" ? "jupedsim" : "macro"}`)} · ${zone ? zone.name : t("plan.evac.wholeVenue")}`)));
  }

  progress(p, running) {
    const box = root().querySelector("#evac-form .progress");
    box.hidden = !running && !this.run;
    box.classList.toggle("running", running);
    const pct = Math.round(Math.max(0, Math.min(1, p || 0)) * 100);
    box.querySelector(".bar i").style.width = `${running ? pct : 100}%`;
    box.querySelector(".pct").textContent = running ? t("plan.evac.running", {p: pct}) : t("plan.evac.finishedRun");
    root().querySelector("#evac-form").dataset.state = running ? "running" : this.run?.status || "idle";
  }

  disposeCharts() {
    for (const c of this.charts) c.dispose();
    this.charts = [];
    if (this.heatUrl) URL.revokeObjectURL(this.heatUrl);
    this.heatUrl = null;
  }

  async render() {
    this.disposeCharts();
    const run = this.run;
    const body = root().querySelector("#evac-result .er-body");
    const what = root().querySelector("#evac-result .er-what");
    const zoneName = (code) => this.ctx.zoneByCode.get(code)?.name || code;
    what.textContent = run ? `${t(`plan.evac.${run.model === "jupedsim" ? "jupedsim" : "macro"}`)} · ${run.zone ? zoneName(run.zone) : t("plan.evac.wholeVenue")}` : "";
    if (!run) return;
    if (run.status === "failed") {
      body.replaceChildren(el("div", {class: "banner bad"}, el("b", {}, t("plan.evac.failed")), " ", sayServer(run.error || "")));
      this.renderCompare(null);
      return;
    }
    const r = run.result;
    if (!r) return;
    body.dataset.run = run.id;
    const parts = [];
    // banner
    if (!r.finished) {
      parts.push(el("div", {class: "banner bad evac-banner"}, el("b", {}, t("plan.evac.notFinished", {n: persons(Math.round(r.remaining))})),
        r.warning ? ` ${sayServer(r.warning)}` : ""));
    } else if (r.warning) {
      parts.push(el("div", {class: "banner warn evac-banner"}, el("b", {}, t("plan.evac.warning")), " ", sayServer(r.warning)));
    } else {
      parts.push(el("div", {class: "banner good evac-banner"}, el("b", {}, t("plan.evac.allOut", {n: persons(r.total)}))));
    }
    // figures
    parts.push(el("div", {class: "kpis"},
      el("div", {class: "kpi big"}, el("span", {}, t("plan.evac.clearance")), el("b", {class: "mono", id: "clearance"}, mmss(r.clearance_s)),
        el("small", {}, r.clearance_s != null ? t("plan.evac.minutes", {m: num(r.clearance_s / 60, 1)}) : t("plan.evac.notClear"))),
      el("div", {class: "kpi"}, el("span", {}, t("plan.evac.total")), el("b", {}, persons(r.total)), el("small", {}, t(r.model === "jupedsim" ? "plan.evac.agentsUnit" : "plan.cap.persons"))),
      el("div", {class: "kpi"}, el("span", {}, t("plan.evac.evacuated")), el("b", {}, persons(Math.round(r.evacuated))),
        el("small", {}, r.total ? `${num((r.evacuated / r.total) * 100, 1)}%` : "")),
      el("div", {class: `kpi${r.remaining > 0.5 ? " hot" : ""}`}, el("span", {}, t("plan.evac.remaining")), el("b", {}, persons(Math.round(r.remaining)))),
      el("div", {class: "kpi"}, el("span", {}, t("plan.evac.wall")), el("b", {}, num(r.wall_s ?? this.elapsed, 1)), el("small", {}, t("plan.evac.seconds")))));
    // exits: chart and table
    const exits = [...(r.exits || [])].sort((a, b) => b.persons - a.persons);
    const exitChart = el("div", {class: "chart exit-chart"});
    parts.push(el("div", {class: "er-row"},
      el("section", {class: "card"}, el("h3", {}, t("plan.evac.exits"), el("span", {class: "count"}, t("plan.evac.exitsN", {n: exits.length}))),
        exitChart),
      el("section", {class: "card"}, el("h3", {}, t("plan.evac.exitTable")),
        el("div", {class: "tscroll"}, el("table", {class: "grid exits"},
          el("thead", {}, el("tr", {}, el("th", {}, t("plan.evac.exit")), el("th", {class: "num"}, t("plan.evac.persons")),
            el("th", {class: "num"}, t("plan.evac.peak")), el("th", {class: "num"}, t("plan.evac.first")), el("th", {class: "num"}, t("plan.evac.last")))),
          el("tbody", {}, exits.map((e) => el("tr", {}, el("td", {title: e.name}, e.label || e.name, e.label && e.label !== e.name ? el("small", {class: "muted mono"}, ` ${e.name}`) : null), el("td", {class: "num"}, persons(Math.round(e.persons))),
            el("td", {class: "num"}, e.peak_per_s != null ? num(e.peak_per_s, 2) : "—"), el("td", {class: "num mono"}, mmss(e.first_s)),
            el("td", {class: "num mono"}, mmss(e.last_s))))))))));
    // zones and populations over time
    const zones = [...(r.zones || [])].sort((a, b) => (b.clear_s ?? Infinity) - (a.clear_s ?? Infinity));
    const lineChart = r.series ? el("div", {class: "chart pop-chart"}) : null;
    parts.push(el("div", {class: "er-row"},
      el("section", {class: "card"}, el("h3", {}, t("plan.evac.zones")),
        el("div", {class: "tscroll"}, el("table", {class: "grid ezones"},
          el("thead", {}, el("tr", {}, el("th", {}, t("plan.cap.zone")), el("th", {class: "num"}, t("plan.evac.clearS")),
            el("th", {class: "num"}, t("plan.evac.maxDensity")), el("th", {class: "num"}, t("plan.evac.maxAt")))),
          el("tbody", {}, zones.map((z) => el("tr", {dataset: {code: z.code}}, el("td", {}, z.name || zoneName(z.code), el("small", {class: "mono muted"}, ` ${z.code || ""}`)),
            el("td", {class: `num mono${z.clear_s == null ? " warn" : ""}`}, mmss(z.clear_s)),
            el("td", {class: `num${z.max_density >= 4 ? " warn" : ""}`}, num(z.max_density, 2)),
            el("td", {class: "num mono"}, mmss(z.max_density_at_s)))))))),
      lineChart ? el("section", {class: "card"}, el("h3", {}, t("plan.evac.series")), lineChart) : null));
    // heat-map (JuPedSim)
    let img = null;
    if (r.heatmap_url) {
      img = el("img", {class: "heatmap", alt: t("plan.evac.heatmap")});
      parts.push(el("section", {class: "card heat-card"}, el("h3", {}, t("plan.evac.heatmap")), img,
        r.hotspots?.length ? el("ul", {class: "hotspots"}, r.hotspots.slice(0, 5).map((h) => el("li", {},
          t("plan.evac.hotspot", {d: num(h.density, 2), t: mmss(h.t), x: num(h.x, 1), y: num(h.y, 1)})))) : null));
    }
    body.replaceChildren(...parts);
    this.renderCompare(r);

    const exitsChart = makeChart(exitChart);
    exitsChart.setOption(this.exitOption(exits), {notMerge: true});
    this.charts.push(exitsChart);
    if (lineChart) {
      const c = makeChart(lineChart);
      c.setOption(this.seriesOption(r.series, zoneName), {notMerge: true});
      this.charts.push(c);
    }
    if (img) {
      try {
        this.heatUrl = await blobUrl(r.heatmap_url);
        img.src = this.heatUrl;
      } catch (err) {
        img.replaceWith(el("div", {class: "error"}, t("error.load", {detail: err.detail || err.message})));
      }
    }
  }

  exitOption(exits) {
    const rows = exits.slice(0, 30).reverse();
    return {
      animation: false, backgroundColor: "transparent",
      grid: {left: 8, right: 56, top: 6, bottom: 6, containLabel: true},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, ...TOOLTIP, valueFormatter: (v) => `${num(v)} ${t("plan.cap.persons")}`},
      xAxis: {type: "value", ...AXIS, axisLabel: {...AXIS.axisLabel, formatter: (v) => num(v)}},
      yAxis: {type: "category", data: rows.map((e) => e.label || e.name), axisLine: {show: false}, axisTick: {show: false},
        axisLabel: {color: "#dbe6f1", interval: 0}},
      series: [{type: "bar", barMaxWidth: 16, data: rows.map((e) => Math.round(e.persons)),
        itemStyle: {color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{offset: 0, color: "#1f5fbf"}, {offset: 1, color: "#4d9cff"}]),
          borderRadius: [0, 3, 3, 0]},
        label: {show: true, position: "right", color: "#e6eef6", formatter: (p) => num(p.value)}}],
    };
  }

  seriesOption(series, zoneName) {
    const codes = Object.keys(series.zones || {});
    const peak = (c) => Math.max(...series.zones[c]);
    codes.sort((a, b) => peak(b) - peak(a));
    return {
      animation: false, backgroundColor: "transparent", color: PALETTE,
      grid: {left: 56, right: 18, top: 34, bottom: 30},
      legend: {type: "scroll", top: 0, textStyle: {color: "#c9d6e3"}, pageTextStyle: {color: "#c9d6e3"}, itemWidth: 14, itemHeight: 8},
      tooltip: {trigger: "axis", ...TOOLTIP, valueFormatter: (v) => num(v), axisPointer: {label: {formatter: (p) => mmss(p.value)}}},
      xAxis: {type: "value", ...AXIS, min: 0, max: series.t[series.t.length - 1], axisLabel: {...AXIS.axisLabel, formatter: (v) => mmss(v)}, splitLine: {show: false}},
      yAxis: {type: "value", ...AXIS, min: 0, name: t("plan.cap.persons"), nameTextStyle: {color: "#8ea3b8"}, axisLabel: {...AXIS.axisLabel, formatter: (v) => num(v)}},
      series: codes.map((c) => ({name: zoneName(c), type: "line", showSymbol: false, lineStyle: {width: 1.8},
        data: series.t.map((x, i) => [x, series.zones[c][i]])})),
    };
  }

  renderCompare(r) {
    const box = root().querySelector("#evac-compare .cmp-body");
    const c = r?.capacity;
    if (!c) {
      box.replaceChildren(el("p", {class: "empty"}, t("plan.evac.noRun")));
      return;
    }
    const max = Math.max(c.evacuation_min || 0, c.simulated_min || 0) || 1;
    const bar = (label, v, cls) => el("div", {class: `cmp ${cls}`}, el("span", {}, label),
      el("div", {class: "cmp-bar"}, el("i", {style: `width:${v != null ? Math.max(2, (v / max) * 100) : 0}%`})),
      el("b", {class: "mono"}, v != null ? t("plan.evac.min", {m: num(v, 1)}) : "—"));
    const d = c.difference_pct;
    const zone = r.zone ? this.ctx.zoneByCode.get(r.zone) : null;
    const facts = el("dl", {class: "facts run-facts"},
      el("dt", {}, t("plan.evac.model")), el("dd", {}, t(`plan.evac.${r.model === "jupedsim" ? "jupedsim" : "macro"}`)),
      el("dt", {}, t("plan.evac.zone")), el("dd", {}, zone ? t("plan.named", {name: zone.name, code: zone.code}) : t("plan.evac.wholeVenue")),
      el("dt", {}, t("plan.evac.total")), el("dd", {}, persons(r.total)),
      el("dt", {}, t("plan.evac.maxS")), el("dd", {}, this.asked?.max_s ? num(this.asked.max_s) : t("plan.evac.maxSHint")),
      r.agent_steps ? el("dt", {}, t("plan.evac.agentSteps")) : null, r.agent_steps ? el("dd", {}, num(r.agent_steps)) : null);
    box.replaceChildren(
      bar(t("plan.evac.capTime"), c.evacuation_min, "gg"),
      bar(t("plan.evac.simTime"), c.simulated_min, "sim"),
      el("div", {class: `cmp-diff${d == null ? "" : d > 10 ? " worse" : d < -10 ? " better" : " same"}`},
        d == null ? t("plan.evac.noDiff") : t(d >= 0 ? "plan.evac.slower" : "plan.evac.faster", {p: num(Math.abs(d), 1)})),
      el("p", {class: "muted small"}, t("plan.evac.compareHint", {people: persons(c.people ?? r.total),
        flow: c.exit_flow_per_min != null ? num(c.exit_flow_per_min, 0) : "—"})),
      el("h3", {}, t("plan.evac.thisRun")), facts);
  }
}
