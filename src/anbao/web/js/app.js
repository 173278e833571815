// The command map 一张图 at /: map, warnings queue and detail, incidents, zone detail, units, figures,
// time slider; live through one WebSocket.
import {api, AuthError} from "./api.js";
import {boot} from "./boot.js";
import {Closures} from "./closures.js";
import {CorridorCheck} from "./corridors.js";
import {IncidentDrawer, IntakeForm} from "./dispatch.js";
import {clock, el} from "./format.js";
import {onLang, t} from "./i18n.js";
import {MapView} from "./mapview.js";
import {renderFigures, renderIncidents, renderIncidentStats, renderQueue, renderUnits, tickAges, WarningDrawer} from "./panels.js";
import {ReinforcePanel} from "./reinforce.js";
import {applyRoles, can, loadRoles} from "./roles.js";
import {Replay} from "./replay.js";
import {run} from "./shell.js";
import {levelLabel, levelRank} from "./vocab.js";
import {ZonePanel} from "./zone.js";

const $ = (s) => document.querySelector(s);

function toast(text, cls = "") {
  const box = $("#toasts");
  const n = el("div", {class: `toast ${cls}`}, text);
  box.prepend(n);
  while (box.children.length > 4) box.lastChild.remove();
  setTimeout(() => n.classList.add("gone"), 5000);
  setTimeout(() => n.remove(), 5600);
}

async function main() {
  const started = await boot({login: {title: "app.name", subtitle: "app.subtitle"}});
  if (!started) return;
  const {config, store} = started;
  await loadRoles(); // what the role may do decides which buttons are there; names for "user:x"
  applyRoles();
  document.body.classList.remove("booting");

  const title = () => {
    $("#event-name").textContent = store.event?.name || "";
  };
  title();

  let selectedWarning = null;
  let unitFilter = "all";
  const drawer = new WarningDrawer($("#drawer"), store, {
    onLocate: (id) => mapView.flyToWarning(id),
    toast: (text) => toast(text, "good"),
  });
  const zonePanel = new ZonePanel($("#zone-panel"), store);
  const mapView = new MapView($("#map"), store, {
    config,
    onZone: (id) => {
      mapView.select(id);
      zonePanel.show(id);
    },
    onWarning: (id) => openWarning(id),
    onIncident: (id) => openIncident(id),
  });
  const incidentDrawer = new IncidentDrawer($("#idrawer"), store, mapView.incidentLayer, {toast: (text) => toast(text, "good")});
  const intake = new IntakeForm($("#intake"), store, mapView, {toast: (text) => toast(text, "good"),
    onCreated: (id) => openIncident(id)});
  $("#incidents-panel .intake-open").addEventListener("click", () => {
    incidentDrawer.close();
    closeSideDrawers();
    intake.open();
  });
  $("#incidents-panel .intake-open").hidden = !store.features.incidents || !can("incident:dispatch");
  const corridors = new CorridorCheck($("#cdrawer"), store, mapView);
  const closures = new Closures($("#cdrawer .cl-editor"), store, mapView, {onSaved: () => corridors.open()});
  $("#cdrawer .dw-close").addEventListener("click", () => closures.stop());
  $("#incidents-panel .corridor-open").addEventListener("click", () => {
    incidentDrawer.close();
    intake.close();
    closures.renderEditor();
    corridors.open();
  });
  $("#incidents-panel .corridor-open").hidden = !store.features.incidents;

  function closeSideDrawers() {
    corridors.close();
    closures.stop();
  }

  // focus goes into a drawer when it opens and back to what opened it when it closes
  let opener = null;
  const remember = () => {
    const a = document.activeElement;
    if (a && a !== document.body && !a.closest(".drawer")) opener = a;
  };
  for (const box of ["#drawer", "#idrawer"]) {
    $(box).addEventListener("drawerclosed", () => {
      if (opener?.isConnected && !document.querySelector(".drawer:not([hidden])")) opener.focus();
    });
  }

  function openIncident(id) {
    remember();
    intake.close();
    closeSideDrawers();
    $("#drawer").hidden = true;
    incidentDrawer.open(id);
    mapView.incidentLayer.focus(id);
  }
  const replay = new Replay($("#replay"), store, mapView);

  function openWarning(id, focus = false) {
    remember();
    incidentDrawer.close();
    intake.close();
    closeSideDrawers();
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
  const reinforce = new ReinforcePanel($("#drawer .dw-reinf"), store, mapView.incidentLayer,
    {toast: (text) => toast(text, "good")});
  $("#drawer").addEventListener("drawer", (ev) => {
    reinforce.show(ev.detail.id ? store.warnings.get(ev.detail.id) : null);
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
    }, (id) => mapView.focusUnit(id));
  }
  function drawAll() {
    title();
    drawQueue();
    drawFigures();
    drawUnits();
    renderIncidents($("#incidents"), store, openIncident);
    drawIncidentStats();
  }

  store.on("zones", drawFigures);
  let statsTimer = null;
  async function drawIncidentStats() {
    if (!store.features.incidents) return;
    try {
      renderIncidentStats($("#incident-stats"), await api(store.url("/incident-stats")));
    } catch (err) {
      if (!(err instanceof AuthError)) console.warn("incident stats", err);
    }
  }
  const toasted = new Set();
  // a live change carries no "unattended" (no unit left on scene): asked again for incidents on scene
  const checking = new Set();
  async function checkUnattended(id) {
    if (checking.has(id)) return;
    checking.add(id);
    try {
      const d = await api(store.url(`/incidents/${id}`));
      const i = store.incidents.get(id);
      if (i && Boolean(i.unattended) !== Boolean(d.unattended)) {
        i.unattended = d.unattended;
        store.emit("incidents", {id, incident: i});
      }
    } catch (err) {
      if (!(err instanceof AuthError)) console.warn("incident", err);
    } finally {
      checking.delete(id);
    }
  }
  store.on("incidents", ({incident}) => {
    if (incident.status === "on_scene" && !("unattended" in incident && "assignments" in incident)) checkUnattended(incident.id);
    renderIncidents($("#incidents"), store, openIncident);
    clearTimeout(statsTimer);
    statsTimer = setTimeout(drawIncidentStats, 2000); // a burst of changes: one request
    if (incident.status === "new" && !toasted.has(incident.id)) {
      toasted.add(incident.id);
      toast(`${t("incidents.new")} · ${incident.type_zh || incident.type} ${incident.text || ""}`, "lv-red");
    }
  });
  store.on("tasks", drawFigures);
  store.on("units", () => {
    drawUnits();
    drawFigures();
  });
  let unitsTimer = null;
  store.on("positions", () => { // positions stream in every few seconds per unit: redraw the list at most once a second
    if (unitsTimer) return;
    unitsTimer = setTimeout(() => {
      unitsTimer = null;
      drawUnits();
    }, 1000);
  });
  store.on("warnings", ({fresh, rose, warning}) => {
    drawQueue();
    drawFigures();
    if (fresh || rose) {
      requestAnimationFrame(() => document.querySelector(`#queue [data-id="${warning.id}"]`)?.classList.add("flash"));
      // blue warnings (device silence, forecasts) would flood the screen: toasts from yellow up
      if (levelRank(warning.level) >= levelRank("yellow")) toast(`${levelLabel(warning.level)} · ${warning.message}`, `lv-${warning.level}`);
    }
  });
  store.on("snapshot", () => {
    mapView.draw();
    drawAll();
    if (zonePanel.id !== null) zonePanel.renderInfo();
  });
  onLang(() => {
    drawAll();
    mapView.relabel();
    zonePanel.relabel();
    replay.relabel();
    if (drawer.id) drawer.render();
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

run(main);
