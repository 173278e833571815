// The command map 一张图 at /: map, warnings queue and detail, incidents, zone detail, units, figures,
// time slider; live through one WebSocket.
import {boot, connLabel, showFatal} from "./boot.js";
import {clock, el} from "./format.js";
import {getLang, onLang, setLang, t} from "./i18n.js";
import {MapView} from "./mapview.js";
import {renderFigures, renderIncidents, renderQueue, renderUnits, tickAges, WarningDrawer} from "./panels.js";
import {Replay} from "./replay.js";
import {currentUser, logout, onLogin} from "./session.js";
import {RANK} from "./store.js";
import {ZonePanel} from "./zone.js";

const $ = (s) => document.querySelector(s);

function setConn(state, detail) {
  const box = $("#conn");
  box.className = `conn c-${state}`;
  box.querySelector("span").textContent = connLabel(state, detail);
  box.dataset.state = state;
}

function toast(text, cls = "") {
  const box = $("#toasts");
  const n = el("div", {class: `toast ${cls}`}, text);
  box.prepend(n);
  while (box.children.length > 4) box.lastChild.remove();
  setTimeout(() => n.classList.add("gone"), 5000);
  setTimeout(() => n.remove(), 5600);
}

function markLang() {
  for (const b of document.querySelectorAll(".topbar [data-lang]")) b.classList.toggle("on", b.dataset.lang === getLang());
}

function showUser() {
  const u = currentUser();
  $("#user").textContent = u ? `${u.username} · ${t(`role.${u.role}`)}` : "";
}

async function main() {
  for (const b of document.querySelectorAll(".topbar [data-lang]")) b.addEventListener("click", () => setLang(b.dataset.lang));
  $("#logout").addEventListener("click", () => logout());
  const started = await boot({onState: setConn});
  if (!started) return;
  const {config, vocab, events, store} = started;
  document.body.classList.remove("booting");
  markLang();
  showUser();
  onLogin(showUser);

  const title = () => {
    $("#event-name").textContent = store.event?.name || "";
  };
  title();
  if (events.length > 1) {
    const sel = $("#event-select");
    sel.replaceChildren(...events.map((e) => el("option", {value: e.id, selected: e.id === store.eventId}, e.name)));
    sel.hidden = false;
    sel.addEventListener("change", () => {
      localStorage.setItem("anbao.event", sel.value);
      location.search = `?event=${sel.value}`;
    });
  }

  let selectedWarning = null;
  let unitFilter = "all";
  const drawer = new WarningDrawer($("#drawer"), store, {
    onLocate: (id) => mapView.flyToWarning(id),
    toast: (text) => toast(text, "good"),
  });
  const zonePanel = new ZonePanel($("#zone-panel"), store);
  const mapView = new MapView($("#map"), store, {
    config, vocab,
    onZone: (id) => {
      mapView.select(id);
      zonePanel.show(id);
    },
    onWarning: (id) => openWarning(id),
  });
  const replay = new Replay($("#replay"), store, mapView);

  function openWarning(id, focus = false) {
    selectedWarning = id;
    drawer.open(id, {focus});
    drawQueue();
    const w = store.warnings.get(id);
    if (w?.zone_id) {
      mapView.select(w.zone_id);
      zonePanel.show(w.zone_id);
    }
    mapView.flyToWarning(id);
  }
  $("#drawer").addEventListener("drawer", (ev) => {
    selectedWarning = ev.detail.id;
    drawQueue();
  });

  function drawQueue() {
    renderQueue($("#queue"), store, {onOpen: (id) => openWarning(id), onAck: (id) => openWarning(id, true), selectedId: selectedWarning});
    const c = store.warningCounts();
    $("#wq-count").textContent = t("warnings.count", {n: store.warnings.size, active: c.active});
  }
  let figTimer = null;
  function drawFigures() {
    if (figTimer) return;
    figTimer = requestAnimationFrame(() => {
      figTimer = null;
      renderFigures($("#figures"), store);
    });
  }
  function drawUnits() {
    renderUnits($("#units-panel"), store, unitFilter, (f) => {
      unitFilter = f;
      drawUnits();
    });
  }
  function drawAll() {
    title();
    drawQueue();
    drawFigures();
    drawUnits();
    renderIncidents($("#incidents"), store);
  }

  store.on("zones", drawFigures);
  store.on("incidents", ({incident}) => {
    renderIncidents($("#incidents"), store);
    toast(`${t("incidents.new")} · ${incident.type_zh || incident.type} ${incident.text || ""}`, "lv-red");
  });
  store.on("tasks", drawFigures);
  store.on("units", () => {
    drawUnits();
    drawFigures();
  });
  store.on("warnings", ({fresh, rose, warning}) => {
    drawQueue();
    drawFigures();
    if (fresh || rose) {
      requestAnimationFrame(() => document.querySelector(`#queue [data-id="${warning.id}"]`)?.classList.add("flash"));
      // blue warnings (device silence, forecasts) would flood the screen: toasts from yellow up
      if (RANK[warning.level] >= RANK.yellow) toast(`${t(`level.${warning.level}`)} · ${warning.message}`, `lv-${warning.level}`);
    }
  });
  store.on("snapshot", () => {
    mapView.draw();
    drawAll();
    if (zonePanel.id !== null) zonePanel.renderInfo();
  });
  onLang(() => {
    markLang();
    showUser();
    drawAll();
    mapView.relabel();
    zonePanel.relabel();
    replay.relabel();
    if (drawer.id) drawer.render();
    setConn(started.live.state);
  });

  drawAll();
  const [first] = store.busiest(1);
  const start = first?.id ?? store.zones.keys().next().value;
  if (start !== undefined) {
    mapView.select(start);
    zonePanel.show(start);
  }
  const tick = () => {
    $("#clock").textContent = clock();
    tickAges();
  };
  tick();
  setInterval(tick, 1000);
  setInterval(() => store.refreshStatus(true), 15000);
  setInterval(() => store.reloadUnits().catch(() => {}), 60000);
  window.anbao = {store, mapView, live: started.live}; // for the browser tests and the console
  document.body.dataset.ready = "1";
}

main().catch((err) => {
  console.error(err);
  showFatal(t("error.start", {detail: err.message || String(err)}), () => location.reload());
});
