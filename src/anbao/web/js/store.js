// The live picture of one event: map objects, zone states, warnings, tasks, units. Loaded over REST,
// then kept current by the live stream. Views subscribe with on(topic, fn); topics: zones, gates,
// posts, devices, warnings, tasks, units, positions, incidents, plans, snapshot.
import {api, AuthError} from "./api.js";
import {stableRanking} from "./ranking.js";
import {densityDefaults, levelCodes, levelRank, levelThresholds} from "./vocab.js";

const FINAL_TASK = new Set(["done", "cancelled"]);

export class Store {
  constructor(eventId) {
    this.eventId = eventId;
    this.event = null;
    this.map = null; // the FeatureCollection of GET /map
    this.zones = new Map(); // id -> {id, props, feature, state}
    this.gates = new Map(); // id -> {id, props, queue, wait_s}
    this.posts = new Map();
    this.devices = new Map(); // id -> {id, props, health, last_at, value}
    this.warnings = new Map(); // open warnings by id (closed ones leave)
    this.tasks = new Map(); // open tasks by id
    this.units = new Map();
    this.incidents = new Map(); // when the server has the incident module (接处警)
    this.positions = new Map(); // unit id -> newest {unit_id, call_sign, lon, lat, accuracy_m, at}
    this.features = {};
    this.plans = new Map();
    this.nodes = new Map();
    this.rules = {}; // the event-wide warning rules by kind
    this.zoneRules = new Map(); // density rules of one zone kind
    this.listeners = new Map();
    this.lastStatus = 0;
    this.statusAt = null;
    this.statusBusy = false;
    this.loaded = false;
    this.pending = []; // live messages that arrived while the snapshot loaded
  }

  url(path) {
    return `/events/${this.eventId}${path}`;
  }

  on(topic, fn) {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic).add(fn);
  }

  emit(topic, detail) {
    for (const fn of this.listeners.get(topic) || []) fn(detail);
  }

  /** Everything over REST. Messages received meanwhile are applied afterwards (they are newer). */
  async load() {
    this.loaded = false;
    const optional = (p) => p.catch((err) => {
      if (err instanceof AuthError) throw err;
      return [];
    });
    const [event, fc, states, warnings, tasks, units, plans, nodes, rules, incidents, positions] = await Promise.all([
      api(this.url("")),
      // the static layers, cached by the browser against the server's ETag (304 while the venue is unchanged);
      // gate queues, post presence and device health come from /map-status just after
      api(this.url("/map"), {query: {live: "false"}}),
      api(this.url("/zone-states")),
      api(this.url("/warnings"), {query: {status: "open"}}),
      optional(api(this.url("/tasks"), {query: {open: "true"}})),
      optional(api(this.url("/units"), {query: {limit: 5000}})),
      optional(api(this.url("/plans"), {query: {limit: 5000}})),
      optional(api(this.url("/command-nodes"), {query: {limit: 5000}})),
      optional(api(this.url("/warning-rules"))),
      this.features.incidents ? optional(api(this.url("/incidents"))) : Promise.resolve([]),
      this.features.incidents ? optional(api(this.url("/unit-positions"))) : Promise.resolve([]),
    ]);
    this.event = event;
    this.map = fc;
    this.zones.clear();
    this.gates.clear();
    this.posts.clear();
    this.devices.clear();
    for (const f of fc.features) {
      const p = f.properties;
      const item = {id: p.id, props: p, feature: f};
      if (p.layer === "zone") this.zones.set(p.id, {...item, state: {count: null, density: null, level: "none"}});
      else if (p.layer === "gate") this.gates.set(p.id, {...item, queue: p.queue ?? null, wait_s: p.wait_s ?? null});
      else if (p.layer === "post") this.posts.set(p.id, item);
      else if (p.layer === "device") {
        this.devices.set(p.id, {...item, health: p.health ?? "none", last_at: p.last_at ?? null, value: p.value ?? null});
      }
    }
    for (const s of states) this.applyZoneState(s);
    this.warnings = new Map(warnings.map((w) => [w.id, w]));
    this.tasks = new Map(tasks.map((x) => [x.id, x]));
    this.units = new Map(units.map((u) => [u.id, u]));
    this.incidents = new Map(incidents.map((i) => [i.id, i]));
    this.positions = new Map(positions.map((p) => [p.unit_id, p]));
    this.plans = new Map(plans.map((p) => [p.id, p]));
    this.nodes = new Map(nodes.map((n) => [n.id, n]));
    this.rules = Object.fromEntries(rules.filter((r) => !r.zone_kind && r.enabled !== false).map((r) => [r.kind, r]));
    this.zoneRules = new Map(rules.filter((r) => r.zone_kind && r.kind === "density" && r.enabled !== false)
      .map((r) => [r.zone_kind, r]));
    this.lastStatus = 0;
    this.statusAt = null; // the next status lists every device
    this.loaded = true;
    const queued = this.pending;
    this.pending = [];
    this.emit("snapshot");
    for (const m of queued) this.apply(m);
    this.refreshStatus(true);
  }

  applyZoneState(s) {
    const z = this.zones.get(s.zone_id);
    if (!z) return false;
    const keep = (k) => (s[k] !== undefined ? s[k] : z.state[k]);
    z.state = {count: s.count, density: s.density, level: s.level || "none", source: s.source,
               stale: s.stale || s.sensors_stale || [], used: s.sensors_used || z.state.used || [],
               trend_per_min: keep("trend_per_min"), forecast_density: keep("forecast_density"),
               flow_in_per_min: keep("flow_in_per_min"), flow_out_per_min: keep("flow_out_per_min")};
    return true;
  }

  /** One live-stream message. */
  apply(m) {
    if (!this.loaded) {
      this.pending.push(m);
      return;
    }
    const topic = m.topic.split("/").pop();
    const p = m.payload || {};
    if (topic === "zone-state") {
      const ids = (p.zones || []).filter((s) => this.applyZoneState(s)).map((s) => s.zone_id);
      if (ids.length) this.emit("zones", {ids, at: p.at});
      this.refreshStatus();
    } else if (topic === "sensor-health") {
      const ids = [];
      for (const d of p.devices || []) {
        const dev = this.devices.get(d.device_id);
        if (!dev) continue;
        dev.health = d.status;
        dev.last_at = d.last_at;
        ids.push(d.device_id);
      }
      if (ids.length) this.emit("devices", {ids});
    } else if (topic === "warning") {
      const before = this.warnings.get(p.id);
      if (p.status === "closed") this.warnings.delete(p.id);
      else this.warnings.set(p.id, {...before, ...p});
      const rose = Boolean(before) && levelRank(p.level) > levelRank(before.level) && p.status !== "closed";
      this.emit("warnings", {id: p.id, fresh: !before && p.status !== "closed", rose, warning: p});
    } else if (topic === "task") {
      const before = this.tasks.get(p.id);
      if (FINAL_TASK.has(p.status)) this.tasks.delete(p.id);
      else this.tasks.set(p.id, {...before, ...p});
      this.emit("tasks", {id: p.id, task: p});
    } else if (topic === "incident") {
      this.incidents.set(p.id, {...this.incidents.get(p.id), ...p});
      this.emit("incidents", {id: p.id, incident: p});
    } else if (topic === "unit-position") {
      const before = this.positions.get(p.unit_id);
      if (!before || new Date(p.at) >= new Date(before.at)) {
        this.positions.set(p.unit_id, p);
        this.emit("positions", {id: p.unit_id});
      }
      this.refreshStatus(); // who is at which post
    } else if (topic === "unit") {
      const u = this.units.get(p.id);
      if (u && u.status !== p.status) {
        this.units.set(p.id, {...u, status: p.status});
        this.emit("units", {id: p.id});
      }
    } else if (topic === "plan-activation") {
      this.emit("plans", {activation: p});
    }
  }

  /** Post presence, gate queues and device health (no live message carries them): at most every 5 s; a call
   * inside the 5 s is done once at their end (so the last change is never left out). */
  async refreshStatus(force = false) {
    const wait = 5000 - (Date.now() - this.lastStatus);
    if (!force && wait > 0) {
      if (!this.statusLater) this.statusLater = setTimeout(() => {
        this.statusLater = null;
        this.refreshStatus();
      }, wait);
      return;
    }
    if (this.statusBusy) return;
    this.statusBusy = true;
    try {
      // after the first, only the devices whose health or value may have changed since the previous answer
      const st = await api(this.url("/map-status"), {query: {since: this.statusAt}});
      this.lastStatus = Date.now();
      this.statusAt = st.at;
      const gates = [];
      for (const g of st.gates) {
        const gate = this.gates.get(g.gate_id);
        if (gate && (gate.queue !== g.queue || gate.wait_s !== g.wait_s)) {
          gate.queue = g.queue;
          gate.wait_s = g.wait_s;
          gates.push(g.gate_id);
        }
      }
      const posts = [];
      for (const x of st.posts || []) {
        const post = this.posts.get(x.post_id);
        if (post && (post.props.present !== x.present || String(post.props.units) !== String(x.units))) {
          post.props.present = x.present;
          post.props.units = x.units;
          posts.push(x.post_id);
        }
      }
      const devices = [];
      for (const d of st.devices) {
        const dev = this.devices.get(d.device_id);
        if (dev && dev.health !== d.health) {
          dev.health = d.health;
          dev.last_at = d.last_at;
          devices.push(d.device_id);
        }
        if (dev) dev.value = d.value;
      }
      if (gates.length) this.emit("gates", {ids: gates});
      if (posts.length) this.emit("posts", {ids: posts});
      if (devices.length) this.emit("devices", {ids: devices});
    } catch (err) {
      if (!(err instanceof AuthError)) console.warn("map status", err);
    } finally {
      this.statusBusy = false;
    }
  }

  async reloadUnits() {
    const units = await api(this.url("/units"), {query: {limit: 5000}});
    this.units = new Map(units.map((u) => [u.id, u]));
    this.emit("units");
  }

  // ------------------------------------------------------------------ derived figures

  /** Persons on site: zone counts summed, a zone inside a counted zone left out (counted once). */
  peopleOnSite(counts = null) {
    const get = counts ? (id) => counts.get(id) : (id) => this.zones.get(id)?.state.count;
    let total = 0;
    let seen = false;
    for (const z of this.zones.values()) {
      const c = get(z.id);
      if (c === null || c === undefined) continue;
      let parent = z.props.parent_id;
      let nested = false;
      for (let hops = 0; parent !== null && parent !== undefined && hops < 50; hops++) {
        const pc = get(parent);
        if (pc !== null && pc !== undefined) {
          nested = true;
          break;
        }
        parent = this.zones.get(parent)?.props.parent_id;
      }
      if (!nested) {
        total += c;
        seen = true;
      }
    }
    return seen ? total : null;
  }

  busiest(n = 1) {
    // stable against noise: a zone passes another only by a margin (js/ranking.js)
    const ranked = stableRanking([...this.zones.values()], this.ranking || []);
    this.ranking = ranked.map((z) => z.id);
    return ranked.slice(0, n);
  }

  warningCounts() {
    const c = {active: 0};
    for (const lv of levelCodes()) c[lv] = 0;
    for (const w of this.warnings.values()) {
      c[w.level] = (c[w.level] || 0) + 1;
      if (w.status === "active") c.active += 1;
    }
    return c;
  }

  unitCounts() {
    const c = {total: this.units.size, available: 0};
    for (const u of this.units.values()) c[u.status] = (c[u.status] || 0) + 1;
    c.available = c.available || 0;
    return c;
  }

  sortedWarnings() {
    return [...this.warnings.values()].sort((a, b) => (a.status === "active" ? 0 : 1) - (b.status === "active" ? 0 : 1)
      || levelRank(b.level) - levelRank(a.level) || new Date(b.changed_at) - new Date(a.changed_at));
  }

  /** The density levels (persons/m2) a zone of ``kind`` is coloured by: the event's density rule for that
   * zone kind, else the event-wide one, else the server's defaults. A level the rule leaves out is null. */
  densityLevels(kind = null) {
    const r = (kind && this.zoneRules.get(kind)) || this.rules.density;
    return r ? levelThresholds(r) : densityDefaults();
  }

  zoneName(id) {
    return this.zones.get(id)?.props.name ?? "";
  }

  /** Where a warning sits: its device, else its zone's label point (or centre) ([lon, lat]), else null. */
  warningPlace(w) {
    const d = w.device_id ? this.devices.get(w.device_id) : null;
    if (d) return d.feature.geometry.coordinates;
    const z = w.zone_id ? this.zones.get(w.zone_id) : null;
    return z ? z.props.label || centroid(z.feature.geometry) : null;
  }
}

/** Area-weighted centroid of a Polygon / MultiPolygon (planar in degrees: fine at venue scale). */
export function centroid(geometry) {
  const polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (const poly of polys) {
    const ring = poly[0];
    for (let i = 0; i < ring.length - 1; i++) {
      const [x0, y0] = ring[i];
      const [x1, y1] = ring[i + 1];
      const f = x0 * y1 - x1 * y0;
      a += f;
      cx += (x0 + x1) * f;
      cy += (y0 + y1) * f;
    }
  }
  if (Math.abs(a) < 1e-18) return polys[0][0][0];
  return [cx / (3 * a), cy / (3 * a)];
}
