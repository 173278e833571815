// The Leaflet map of an event: zones coloured by live density level, gates with queues, posts,
// cameras and sensors with health, open warnings. Works without tiles (a plain background fitted to
// the venue) and with a configured XYZ tile URL, shifting WGS-84 data to GCJ-02 when the tiles need it.
/* global L */
import {IncidentLayer} from "./dispatch.js";
import {gcj02ToWgs84, wgs84ToGcj02} from "./gcj02.js";
import {num, el, density as fmtDensity, minutes} from "./format.js";
import {has, t} from "./i18n.js";
import {UNIT_STATUS_COLORS, UnitLayer} from "./unitlayer.js";
import {levelCodes, levelColour, levelLabel, levelRank, NO_LEVEL, ruleDefaults, vocabLabel} from "./vocab.js";

export const HEALTH_COLORS = {ok: "#2fc56b", stale: "#f5a623", silent: "#f03a3a", none: "#6b7785"};
const CAMERA_KINDS = new Set(["camera", "drone"]);
const NONE_FILL = {road: "#4a525c", parking: "#59636f", stage: "#7a6a96", service: "#5d6873", plaza: "#6c7885",
  stand: "#8593a3", standing: "#8d9bab", concourse: "#77838f", screening: "#7d8a99"};

export class MapView {
  constructor(element, store, {config, wall = false, onZone = () => {}, onWarning = () => {}, onIncident = () => {}}) {
    this.store = store;
    this.config = config || {};
    this.wall = wall;
    this.onZone = onZone;
    this.onWarning = onWarning;
    this.replay = null; // Map zone id -> {level, count, density} while replaying
    this.selected = null;
    this.zoneLayers = new Map();
    this.labelMarkers = new Map();
    this.gateMarkers = new Map();
    this.postMarkers = new Map();
    this.deviceMarkers = new Map();
    this.warningMarkers = new Map();
    this.incidentMarkers = new Map();
    const local = store.map.crs === "local";
    this.gcj = Boolean(this.config.tile_gcj02) && !local;
    this.map = L.map(element, {
      crs: local ? L.CRS.Simple : L.CRS.EPSG3857,
      zoomControl: !wall, attributionControl: false, preferCanvas: false,
      minZoom: local ? -5 : 3, maxZoom: local ? 6 : 21, zoomSnap: 0.25, zoomDelta: 0.5,
      dragging: !wall, scrollWheelZoom: !wall, doubleClickZoom: !wall, boxZoom: !wall, keyboard: !wall,
      touchZoom: !wall,
    });
    for (const [name, z] of [["zonesPane", 410], ["labelsPane", 620], ["gatesPane", 630], ["postsPane", 632],
      ["devicesPane", 634], ["warningsPane", 660], ["incidentsPane", 670]]) {
      this.map.createPane(name).style.zIndex = z;
    }
    this.map.getPane("labelsPane").style.pointerEvents = "none";
    this.layers = {
      zones: L.layerGroup([], {pane: "zonesPane"}),
      labels: L.layerGroup(),
      gates: L.layerGroup(),
      posts: L.layerGroup(),
      cameras: L.layerGroup(),
      sensors: L.layerGroup(),
      warnings: L.layerGroup(),
      incidents: L.layerGroup(),
    };
    this.units = new UnitLayer(this, store);
    this.incidentLayer = new IncidentLayer(this, store, (id) => onIncident(id));
    this.layers.units = this.units.layer;
    this.base = {plain: L.layerGroup()};
    if (this.config.tile_url) {
      this.base.tiles = L.tileLayer(this.config.tile_url, {maxZoom: 21, maxNativeZoom: 19, crossOrigin: true});
    }
    (this.base.tiles || this.base.plain).addTo(this.map);
    for (const key of ["zones", "labels", "gates", "warnings", "incidents", "units", ...(wall ? [] : ["sensors"])]) this.layers[key].addTo(this.map);
    this.containers = new Set([...store.zones.values()].map((z) => z.props.parent_id).filter((p) => p != null));
    this.fitVenue();
    this.draw();
    this.map.on("zoomend", () => this.updateLabels());
    this.map.on("overlayadd overlayremove", (ev) => {
      const key = Object.keys(this.layers).find((k) => this.layers[k] === ev.layer);
      if (key && !this.replayToggle) this.overlayOn[key] = ev.type === "overlayadd";
    });
    this.buildControls();
    store.on("zones", ({ids}) => this.updateZones(ids));
    store.on("gates", ({ids}) => {
      for (const id of ids) this.updateGate(id);
    });
    store.on("posts", ({ids}) => {
      for (const id of ids) this.updatePost(id);
    });
    store.on("devices", ({ids}) => {
      for (const id of ids) this.updateDevice(id);
    });
    store.on("warnings", () => this.drawWarnings());
  }

  /** Centre a unit's newest position and show its card. */
  focusUnit(id) {
    const p = this.store.positions.get(id);
    if (!p) return;
    if (!this.map.hasLayer(this.layers.units)) this.layers.units.addTo(this.map);
    this.map.setView(this.ll([p.lon, p.lat]), Math.max(this.map.getZoom(), this.store.map.crs === "local" ? 1 : 17), {animate: false});
    this.units.show(id);
  }

  /** A LatLng of this map -> [lon, lat] WGS-84 (or [x, y] metres): the inverse of ll(). */
  unll(latlng) {
    if (this.store.map.crs === "local") return [latlng.lng, latlng.lat];
    return this.gcj ? gcj02ToWgs84(latlng.lng, latlng.lat) : [latlng.lng, latlng.lat];
  }

  /** [lon, lat] (or [x, y] metres) -> LatLng on this map. */
  ll(c) {
    if (this.store.map.crs === "local") return L.latLng(c[1], c[0]);
    const [lon, lat] = this.gcj ? wgs84ToGcj02(c[0], c[1]) : c;
    return L.latLng(lat, lon);
  }

  rings(geometry) {
    const poly = (p) => p.map((ring) => ring.map((c) => this.ll(c)));
    return geometry.type === "Polygon" ? poly(geometry.coordinates) : geometry.coordinates.map(poly);
  }

  fit() {
    const b = this.store.map.bbox;
    if (!b) return;
    const bounds = L.latLngBounds([this.ll([b[0], b[1]]), this.ll([b[2], b[3]])]);
    this.map.fitBounds(bounds, {padding: this.wall ? [10, 10] : [24, 24]});
  }

  /** The venue itself: zones of rings 1-2 (core and buffer), else everything. */
  fitVenue(ringMax = 2) {
    const pts = [];
    for (const z of this.store.zones.values()) {
      if (z.props.ring <= ringMax) pts.push(...this.rings(z.feature.geometry).flat(2));
    }
    if (!pts.length) {
      this.fit();
      return;
    }
    this.map.fitBounds(L.latLngBounds(pts), {padding: this.wall ? [6, 6] : [16, 16]});
  }

  // ---------------------------------------------------------------- drawing

  draw() {
    this.containers = new Set([...this.store.zones.values()].map((z) => z.props.parent_id).filter((p) => p != null));
    for (const group of Object.values(this.layers)) if (group.clearLayers) group.clearLayers();
    this.zoneLayers.clear();
    this.labelMarkers.clear();
    for (const z of this.store.zones.values()) {
      const layer = L.polygon(this.rings(z.feature.geometry), {pane: "zonesPane", ...this.zoneStyle(z)});
      layer.on("click", (ev) => {
        L.DomEvent.stopPropagation(ev);
        this.onZone(z.id);
      });
      layer.bindTooltip(() => this.zoneTip(z.id), {sticky: true, className: "tip", direction: "top", offset: [0, -6]});
      this.layers.zones.addLayer(layer);
      this.zoneLayers.set(z.id, layer);
      if (!this.containers.has(z.id)) {
        const c = z.props.label ? this.ll(z.props.label) : layer.getBounds().getCenter();
        const m = L.marker(c, {pane: "labelsPane", interactive: false, keyboard: false,
          icon: L.divIcon({className: "zlabel", html: "", iconSize: null})});
        this.labelMarkers.set(z.id, m);
      }
    }
    for (const g of this.store.gates.values()) {
      const m = L.marker(this.ll(g.feature.geometry.coordinates), {pane: "gatesPane", icon: this.gateIcon(g), keyboard: false});
      m.bindTooltip(() => this.gateTip(g.id), {className: "tip", direction: "top", offset: [0, -8]});
      this.layers.gates.addLayer(m);
      this.gateMarkers.set(g.id, m);
    }
    for (const p of this.store.posts.values()) {
      const m = L.marker(this.ll(p.feature.geometry.coordinates), {pane: "postsPane", keyboard: false,
        icon: this.postIcon(p)});
      m.bindTooltip(() => this.postTip(p.id), {className: "tip", direction: "top", offset: [0, -6]});
      this.layers.posts.addLayer(m);
      this.postMarkers.set(p.id, m);
    }
    for (const d of this.store.devices.values()) {
      const camera = CAMERA_KINDS.has(d.props.kind);
      const m = L.circleMarker(this.ll(d.feature.geometry.coordinates), {pane: "devicesPane", ...this.deviceStyle(d)});
      m.bindTooltip(() => this.deviceTip(d.id), {className: "tip", direction: "top", offset: [0, -4]});
      (camera ? this.layers.cameras : this.layers.sensors).addLayer(m);
      this.deviceMarkers.set(d.id, m);
    }
    this.updateLabels();
    this.drawWarnings();
    this.drawIncidents();
  }

  zoneState(id) {
    return this.replay ? (this.replay.get(id) || {level: NO_LEVEL, count: null, density: null}) : this.store.zones.get(id).state;
  }

  zoneStyle(z) {
    const s = this.zoneState(z.id);
    const level = s.level || NO_LEVEL;
    const container = this.containers?.has(z.id);
    const selected = this.selected === z.id;
    if (level !== NO_LEVEL) {
      return {color: selected ? "#ffffff" : levelColour(level), weight: selected ? 3 : 1.2, dashArray: null,
              fillColor: levelColour(level), fillOpacity: container ? 0.22 : 0.62, opacity: 1};
    }
    if (container) {
      return {color: selected ? "#ffffff" : "#56708c", weight: selected ? 3 : 1.4, dashArray: "6 5", fillColor: "#000",
              fillOpacity: 0, opacity: 0.9};
    }
    return {color: selected ? "#ffffff" : "#8d9cad", weight: selected ? 3 : 0.9, dashArray: null, opacity: 0.8,
            fillColor: NONE_FILL[z.props.kind] || "#66727f", fillOpacity: s.count !== null && s.count !== undefined ? 0.42 : 0.24};
  }

  updateZones(ids) {
    for (const id of ids) {
      const z = this.store.zones.get(id);
      const layer = this.zoneLayers.get(id);
      if (z && layer) layer.setStyle(this.zoneStyle(z));
      this.updateLabel(id);
    }
    const hotNow = [...this.zoneLayers.keys()].filter((id) => (this.zoneState(id).level || NO_LEVEL) !== NO_LEVEL).join();
    if (hotNow !== this.hotZones) {
      this.hotZones = hotNow;
      this.updateLabels();
    }
  }

  restyleAll() {
    this.updateZones([...this.zoneLayers.keys()]);
  }

  select(id) {
    const before = this.selected;
    this.selected = id;
    this.updateZones([before, id].filter((x) => x != null));
    const layer = this.zoneLayers.get(id);
    if (layer && !this.containers.has(id)) layer.bringToFront();
  }

  /** Show zone levels from a replayed step (Map id -> {level, count, density}), or null for live. */
  setReplay(snapshot) {
    const was = Boolean(this.replay);
    this.replay = snapshot;
    this.restyleAll();
    if (Boolean(snapshot) !== was) {
      // live warnings do not belong to a past moment: hidden while replaying (not a user choice)
      this.replayToggle = true;
      if (snapshot) this.map.removeLayer(this.layers.warnings);
      else if (this.overlayOn.warnings !== false) this.layers.warnings.addTo(this.map);
      this.replayToggle = false;
    }
  }

  updateLabels() {
    const zoom = this.map.getZoom();
    for (const [id, m] of this.labelMarkers) {
      const layer = this.zoneLayers.get(id);
      const b = layer.getBounds();
      const w = this.map.latLngToLayerPoint(b.getNorthEast()).x - this.map.latLngToLayerPoint(b.getSouthWest()).x;
      // small zones get a label once they carry a level (declutter() then gives them priority)
      const hot = (this.zoneState(id).level || NO_LEVEL) !== NO_LEVEL;
      const show = (hot ? w > 14 : w > (this.wall ? 48 : 64)) && zoom >= (this.store.map.crs === "local" ? -2 : 15);
      if (show && !this.layers.labels.hasLayer(m)) this.layers.labels.addLayer(m);
      if (!show && this.layers.labels.hasLayer(m)) this.layers.labels.removeLayer(m);
      if (show) this.updateLabel(id);
    }
    this.declutter();
  }

  /** Hide labels that would overlap a more important one (higher level first, then larger zones). */
  declutter() {
    if (this.declutterFrame) return;
    this.declutterFrame = requestAnimationFrame(() => {
      this.declutterFrame = null;
      const shown = [...this.labelMarkers].filter(([, m]) => this.layers.labels.hasLayer(m) && m.getElement());
      shown.sort(([a], [b]) => levelRank(this.zoneState(b).level) - levelRank(this.zoneState(a).level)
        || this.store.zones.get(b).props.area_m2 - this.store.zones.get(a).props.area_m2);
      const boxes = [];
      for (const [, m] of shown) {
        const node = m.getElement();
        node.style.visibility = "";
        const r = node.getBoundingClientRect();
        // a gap of 4 px each way: neighbouring stands (上层/下层南看台) read as two labels, not one block
        const hit = boxes.some((b) => r.left < b.right + 4 && r.right > b.left - 4 && r.top < b.bottom + 4 && r.bottom > b.top - 4);
        if (hit) node.style.visibility = "hidden";
        else boxes.push(r);
      }
    });
  }

  updateLabel(id) {
    const m = this.labelMarkers.get(id);
    if (!m || !this.layers.labels.hasLayer(m)) return;
    const z = this.store.zones.get(id);
    const s = this.zoneState(id);
    const node = m.getElement();
    if (!node) return;
    const figure = s.density !== null && s.density !== undefined ? `${fmtDensity(s.density)} ${t("unit.density")}` : "";
    const key = `${z.props.name}|${figure}|${s.level}`;
    if (node.dataset.key === key) return;
    node.dataset.key = key;
    node.className = `leaflet-marker-icon zlabel lv-${s.level || NO_LEVEL}`;
    node.replaceChildren(el("b", {}, z.props.name), figure ? el("span", {}, figure) : "");
    this.declutter();
  }

  gateIcon(g) {
    const q = g.queue;
    let level = NO_LEVEL;
    const th = this.store.rules.queue_length || ruleDefaults("queue_length") || {};
    for (const lv of levelCodes()) if (q !== null && q !== undefined && th[lv] != null && q >= th[lv]) level = lv;
    const badge = q !== null && q !== undefined && q >= 10 ? `<span class="q lv-${level}">${num(q)}</span>` : "";
    return L.divIcon({className: `gate k-${g.props.kind}`, html: `<i></i>${badge}`, iconSize: [12, 12], iconAnchor: [6, 6]});
  }

  updateGate(id) {
    const g = this.store.gates.get(id);
    const m = this.gateMarkers.get(id);
    if (g && m) m.setIcon(this.gateIcon(g));
  }

  deviceStyle(d) {
    const camera = CAMERA_KINDS.has(d.props.kind);
    return {radius: camera ? 4.5 : 3.5, color: camera ? "#dfe8f2" : "#0b1520", weight: camera ? 1.2 : 0.8,
            fillColor: HEALTH_COLORS[d.health] || HEALTH_COLORS.none, fillOpacity: 0.95, opacity: 0.9};
  }

  updateDevice(id) {
    const d = this.store.devices.get(id);
    const m = this.deviceMarkers.get(id);
    if (d && m) m.setStyle(this.deviceStyle(d));
  }

  drawWarnings() {
    const seen = new Set();
    for (const w of this.store.warnings.values()) {
      const at = this.store.warningPlace(w);
      if (!at) continue;
      seen.add(w.id);
      const cls = `wmark lv-${w.level} ${w.status === "active" ? "active" : "acked"}`;
      let m = this.warningMarkers.get(w.id);
      if (!m) {
        // a zone's warning stands above the zone's label (which sits on the same point); a device's on the device
        const anchor = w.device_id ? [11, 11] : [11, 34];
        m = L.marker(this.ll(at), {pane: "warningsPane", keyboard: false, riseOnHover: true,
          icon: L.divIcon({className: cls, html: "<i></i><b></b>", iconSize: [22, 22], iconAnchor: anchor})});
        m.on("click", () => this.onWarning(w.id));
        m.bindTooltip(() => this.warningTip(w.id), {className: "tip", direction: "top", offset: [0, -10]});
        this.layers.warnings.addLayer(m);
        this.warningMarkers.set(w.id, m);
      } else {
        const node = m.getElement();
        if (node) node.className = `leaflet-marker-icon leaflet-interactive ${cls}`;
        m.setLatLng(this.ll(at));
      }
      m.setZIndexOffset(levelRank(w.level) * 100 + (w.status === "active" ? 50 : 0));
    }
    for (const [id, m] of this.warningMarkers) {
      if (!seen.has(id)) {
        this.layers.warnings.removeLayer(m);
        this.warningMarkers.delete(id);
      }
    }
  }

  drawIncidents() {
    if (!this.incidentLayer) return;
    this.incidentLayer.markers.clear(); // draw() emptied the layer group
    this.incidentLayer.draw();
  }

  flyToWarning(id) {
    const w = this.store.warnings.get(id);
    const at = w && this.store.warningPlace(w);
    if (at) this.map.flyTo(this.ll(at), Math.max(this.map.getZoom(), 17.5), {duration: 0.6});
  }

  flyToZone(id) {
    const layer = this.zoneLayers.get(id);
    if (layer) this.map.flyToBounds(layer.getBounds(), {maxZoom: 18.5, padding: [60, 60], duration: 0.6});
  }

  // ---------------------------------------------------------------- tooltips

  zoneTip(id) {
    const z = this.store.zones.get(id);
    const s = this.zoneState(id);
    return el("div", {},
      el("div", {class: "tip-title"}, z.props.name, " ", el("span", {class: `chip lv-${s.level || NO_LEVEL}`}, levelLabel(s.level || NO_LEVEL))),
      el("div", {}, `${vocabLabel("zone_kind", z.props.kind)} · ${num(z.props.area_m2)} ${t("unit.m2")}`),
      el("div", {}, `${t("zone.count")} ${num(s.count)} · ${t("zone.density")} ${fmtDensity(s.density)} ${t("unit.density")}`));
  }

  gateTip(id) {
    const g = this.store.gates.get(id);
    return el("div", {},
      el("div", {class: "tip-title"}, g.props.name),
      el("div", {}, `${vocabLabel("gate_kind", g.props.kind)} · ${t("gate.lanes", {n: g.props.lanes})}`),
      el("div", {}, g.queue === null || g.queue === undefined ? t("gate.noCounter")
        : `${t("gate.queue")} ${num(g.queue)} ${t("unit.persons")} · ${t("gate.wait")} ${minutes(g.wait_s)}`));
  }

  /** A diamond (the rotated inner <i>: Leaflet's transform on the marker itself would undo a rotation there);
   * ringed orange when fewer officers are at the post than it needs. */
  postIcon(p) {
    const short = p.props.present !== null && p.props.present !== undefined && p.props.present < p.props.required;
    return L.divIcon({className: `post${p.props.critical ? " critical" : ""}${short ? " short" : ""}`, html: "<i></i>",
      iconSize: [10, 10]});
  }

  updatePost(id) {
    const p = this.store.posts.get(id);
    const m = this.postMarkers.get(id);
    if (p && m) m.setIcon(this.postIcon(p));
  }

  postTip(id) {
    const p = this.store.posts.get(id).props;
    return el("div", {},
      el("div", {class: "tip-title"}, p.name, p.critical ? el("span", {class: "chip crit"}, t("post.critical")) : ""),
      el("div", {}, vocabLabel("police_type", p.police_type)),
      el("div", {}, t("post.staffing", {present: p.present ?? "—", required: p.required})),
      p.units?.length ? el("div", {class: "muted"}, p.units.join(" · ")) : "");
  }

  deviceTip(id) {
    const d = this.store.devices.get(id);
    return el("div", {},
      el("div", {class: "tip-title"}, d.props.name || d.props.code),
      el("div", {}, `${d.props.code} · ${vocabLabel("device_kind", d.props.kind)}`),
      el("div", {}, el("span", {class: `dot h-${d.health}`}), " ", t(`health.${d.health}`),
        d.value !== null && d.value !== undefined ? ` · ${num(d.value, 1)} ${d.props.unit || ""}` : ""));
  }

  warningTip(id) {
    const w = this.store.warnings.get(id);
    if (!w) return "";
    return el("div", {class: "tip-warning"},
      el("div", {class: "tip-title"}, el("span", {class: `chip lv-${w.level}`}, levelLabel(w.level)), " ", kindLabel(w.kind)),
      el("div", {}, w.message));
  }

  // ---------------------------------------------------------------- controls

  buildControls() {
    this.overlayOn = this.overlayOn || {};
    if (this.layerControl) this.layerControl.remove();
    if (this.legend) this.legend.remove();
    const base = {[t("map.base.plain")]: this.base.plain};
    if (this.base.tiles) base[t("map.base.tiles")] = this.base.tiles;
    const overlays = {};
    const keys = ["zones", "labels", "gates", "posts", "cameras", "sensors", "warnings"];
    if (this.store.features.incidents) keys.push("incidents", "units");
    for (const key of keys) overlays[t(`layer.${key}`)] = this.layers[key];
    if (!this.wall) {
      this.layerControl = L.control.layers(base, overlays, {collapsed: false, position: "topright"}).addTo(this.map);
    }
    if (!this.wall) {
      if (this.fitControl) this.fitControl.remove();
      const Fit = L.Control.extend({
        onAdd: () => {
          const bar = el("div", {class: "leaflet-bar fitbar"});
          bar.append(el("a", {href: "#", role: "button", title: t("map.fitVenue"), onclick: (ev) => {
            ev.preventDefault();
            this.fitVenue();
          }}, t("map.venue")), el("a", {href: "#", role: "button", title: t("map.fitAll"), onclick: (ev) => {
            ev.preventDefault();
            this.fit();
          }}, t("map.all")));
          L.DomEvent.disableClickPropagation(bar);
          return bar;
        },
      });
      this.fitControl = new Fit({position: "topleft"}).addTo(this.map);
    }
    const Legend = L.Control.extend({
      onAdd: () => {
        const box = el("div", {class: "legend"});
        const row = (mark, label) => el("div", {class: "lg-row"}, mark, label);
        const sw = (color, cls = "sw") => el("i", {class: cls, style: `background:${color}`});
        const sec = (title, ...rows) => el("div", {class: "lg-sec"}, el("div", {class: "lg-title"}, title), ...rows);
        const levels = this.store.densityLevels();
        const left = el("div", {}, sec(t("legend.density"),
          ...[...levelCodes().reverse().filter((x) => levels[x] != null), NO_LEVEL].map((lv) =>
            row(sw(levelColour(lv)), lv === NO_LEVEL ? t("legend.none") : `${levelLabel(lv)} ≥ ${levels[lv]} ${t("unit.density")}`))),
        sec(t("legend.marks"),
          row(el("i", {class: "lg-wmark"}), t("legend.warning")),
          row(el("span", {class: "imark"}, el("b")), t("legend.incident")),
          row(el("span", {class: "imark unattended"}, el("b")), t("legend.unattended"))));
        const right = el("div", {});
        if (this.store.features.incidents) {
          right.append(sec(t("legend.units"), ...["available", "assigned", "busy", "off_duty"].map((st) =>
            row(sw(UNIT_STATUS_COLORS[st], "lg-unit"), vocabLabel("unit_status", st)))));
        }
        right.append(
          sec(t("legend.gates"), ...["gate", "checkpoint", "exit"].map((k) =>
            row(el("span", {class: `gate lg-gate k-${k}`}, el("i")), t(`legend.${k}`)))),
          sec(t("legend.posts"), row(el("span", {class: "post lg-post"}, el("i")), t("legend.post")),
            row(el("span", {class: "post short lg-post"}, el("i")), t("legend.postShort"))),
          sec(t("legend.devices"), row(el("i", {class: "lg-cam"}), t("legend.camera")),
            ...["ok", "stale", "silent", "none"].map((h) => row(sw(HEALTH_COLORS[h], "dot"), `${t("legend.sensor")} · ${t(`health.${h}`)}`))));
        box.append(left, right);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      },
    });
    this.legend = new Legend({position: "bottomleft"}).addTo(this.map);
  }

  relabel() {
    this.buildControls();
    for (const m of this.labelMarkers.values()) {
      const node = m.getElement();
      if (node) node.dataset.key = "";
    }
    this.updateLabels();
  }

  invalidate() {
    this.map.invalidateSize();
  }
}

export function kindLabel(kind) {
  return has(`wkind.${kind}`) ? t(`wkind.${kind}`) : kind;
}
