// The wall 大屏 at /wall/: map, warnings, incidents, figures, the event phase and its countdown, police
// strength, persons-on-site trend and the busiest zones, kept
// current by the live stream alone (no interaction needed).
import {api, AuthError} from "./api.js";
import {boot} from "./boot.js";
import {busiestOption, makeChart, peopleTrendOption} from "./charts.js";
import {clock, dateLong} from "./format.js";
import {onLang, t} from "./i18n.js";
import {MapView} from "./mapview.js";
import {renderFigures, renderQueue, tickAges} from "./panels.js";
import {run} from "./shell.js";
import {renderPhase, renderStrength, renderWallIncidents} from "./wallpanels.js";

const $ = (s) => document.querySelector(s);
const MAX_WARNINGS = 8;

async function main() {
  const started = await boot({login: {title: "wall.title", subtitle: "app.subtitle", apiDocs: false}});
  if (!started) return;
  const {config, store} = started;
  document.body.classList.remove("booting");
  $("#event-name").textContent = store.event?.name || "";
  // every size scales with the root font size (wall.css: 1/60 of the screen height); the charts and the map's
  // markers take it from here (--k: the scale against the 18 px of a 1920 x 1080 wall)
  const rem = () => parseFloat(getComputedStyle(document.documentElement).fontSize) || 18;
  const setScale = () => document.documentElement.style.setProperty("--k", String(rem() / 18));
  setScale();

  const mapView = new MapView($("#map"), store, {config, wall: true});
  const trend = makeChart($("#trend"));
  const bars = makeChart($("#busiest"));
  let series = null;

  const thresholds = () => store.densityLevels();

  function drawQueue() {
    const list = $("#queue");
    renderQueue(list, store, {compact: true});
    const all = store.sortedWarnings();
    // no scrolling on a wall: keep the warnings that fit whole (the most urgent come first)
    while (list.children.length > 1 && (list.children.length > MAX_WARNINGS
           || list.lastChild.offsetTop + list.lastChild.offsetHeight > list.clientHeight)) list.lastChild.remove();
    const shown = all.length ? list.children.length : 0;
    $("#wq-count").textContent = all.length > shown ? t("wall.more", {n: all.length, shown})
      : t("warnings.count", {n: all.length, active: store.warningCounts().active});
  }
  function drawFigures() {
    renderFigures($("#figures"), store);
    renderStrength($("#strength"), $("#on-duty"), [...store.units.values()]);
  }
  function drawIncidents() {
    renderWallIncidents($("#incidents"), $("#inc-count"), store);
  }
  function drawBars() {
    bars.setOption(busiestOption(store.busiest(6), thresholds(), Math.round(rem() * 0.9)), {notMerge: true});
  }
  function drawTrend() {
    if (series) trend.setOption(peopleTrendOption({...series, fs: Math.round(rem() * 0.85)}), {notMerge: true});
  }
  async function loadTrend() {
    try {
      const h = await api(store.url("/zone-history"), {query: {since: new Date(Date.now() - 3600e3).toISOString(), step_s: 30}});
      const times = h.times.map((x) => new Date(x).getTime());
      const from = h.data_since ? Math.max(0, times.findIndex((x) => x >= new Date(h.data_since).getTime()) - 1) : 0;
      series = {times: times.slice(from), people: h.people.slice(from)};
      drawTrend();
    } catch (err) {
      if (!(err instanceof AuthError)) console.warn("trend", err);
    }
  }
  let pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      drawFigures();
      drawBars();
      if (series) {
        const now = Date.now();
        if (now - series.times[series.times.length - 1] >= 15000) {
          series.times.push(now);
          series.people.push(store.peopleOnSite());
          while (series.times[0] < now - 3600e3) {
            series.times.shift();
            series.people.shift();
          }
          drawTrend();
        }
      }
    }, 1000);
  }

  store.on("zones", redraw);
  store.on("tasks", redraw);
  store.on("warnings", () => {
    drawQueue();
    drawFigures();
  });
  store.on("incidents", drawIncidents);
  store.on("units", drawFigures);
  store.on("snapshot", () => {
    mapView.draw();
    drawQueue();
    drawFigures();
    drawIncidents();
    drawBars();
  });
  window.addEventListener("resize", () => {
    setScale();
    drawQueue();
    drawIncidents();
    drawBars();
    drawTrend();
  });
  onLang(() => {
    drawQueue();
    drawFigures();
    drawIncidents();
    renderPhase($("#phase"), store.event);
    drawBars();
    drawTrend();
    mapView.relabel();
    $("#date").textContent = dateLong();
  });

  drawQueue();
  drawFigures();
  drawIncidents();
  drawBars();
  await loadTrend();
  const tick = () => {
    $("#clock").textContent = clock();
    $("#date").textContent = dateLong();
    renderPhase($("#phase"), store.event);
    tickAges();
  };
  tick();
  setInterval(tick, 1000);
  setInterval(loadTrend, 5 * 60e3);
  setInterval(() => store.refreshStatus(true), 15000);
  setInterval(() => store.reloadUnits().then(drawFigures).catch(() => {}), 60000);
  window.anbao = {store, mapView, live: started.live, charts: {trend, bars}};
  document.body.dataset.ready = "1";
}

run(main);
