// What the phone knows about the event: read over REST, kept current by the live stream, and the
// last good copy of every read kept in IndexedDB so the app opens (and shows the officer's tasks,
// posts and warnings) without network.
import {api, ApiError, AuthError} from "/js/api.js";
import {levelRank, setVocab} from "/js/vocab.js";
import * as db from "./db.js";
import {actorName as nameOf} from "/js/roles.js";

export const FINAL_TASK = new Set(["done", "cancelled"]);
const UNIT_KEY = "anbao.m.unit";

/** GET through the API, falling back to the stored copy when the network (or the server) fails. */
export async function cachedGet(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null) q.set(k, v);
  const key = `GET ${path}?${q}`;
  try {
    const data = await api(path, {query});
    db.setKv(key, data).catch((err) => console.warn("cache", err));
    return {data, fresh: true};
  } catch (err) {
    if (err instanceof AuthError) throw err;
    if (err instanceof ApiError && err.status < 500) throw err;
    const data = await db.getKv(key).catch(() => undefined);
    if (data === undefined) throw err;
    return {data, fresh: false, error: err};
  }
}

function pickEvent(events) {
  const last = Number(localStorage.getItem("anbao.m.event"));
  if (last && events.some((e) => e.id === last)) return last;
  const active = events.find((e) => e.status === "active");
  return (active || events[0])?.id ?? null;
}

export class Model extends EventTarget {
  constructor() {
    super();
    this.config = {timezone: "Asia/Shanghai"};
    this.events = [];
    this.eventId = null;
    this.event = null;
    this.units = new Map();
    this.linked = new Set(); // the units the server links my login to (GET my-units); empty: I pick any unit
    this.nodes = new Map();
    this.zones = new Map();
    this.posts = [];
    this.tasks = new Map();
    this.warnings = new Map();
    this.incidents = [];
    this.incidentById = new Map();
    this.username = "";
    this.stale = false; // true when something shown came from the stored copy
    this.loadError = null;
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, {detail}));
  }

  track(result) {
    if (!result.fresh) {
      this.stale = true;
      this.loadError = result.error;
    }
    return result.data;
  }

  url(path) {
    return `/events/${this.eventId}${path}`;
  }

  /** Settings, vocabulary (kept in /js/vocab.js) and the event list; picks the event (the active one by default). */
  async loadBase() {
    this.stale = false;
    const [config, vocab, events] = await Promise.all([
      cachedGet("/ui-config").catch(() => ({data: this.config, fresh: true})),
      cachedGet("/meta/vocab").catch(() => null), // none at all: keep the copy this page already has
      cachedGet("/events"),
    ]);
    this.config = this.track(config);
    if (vocab) {
      const data = this.track(vocab);
      setVocab(data); // a copy kept by an older version of the app has the code lists only, no levels
    }
    this.events = this.track(events);
    this.eventId = pickEvent(this.events);
    this.event = this.events.find((e) => e.id === this.eventId) || null;
    if (this.eventId !== null) localStorage.setItem("anbao.m.event", String(this.eventId));
    return this.eventId;
  }

  /** The event's organisation and geography: units, command nodes, zones, posts. */
  async loadEvent() {
    const all = {limit: 5000};
    const [units, nodes, zones, posts, mine] = await Promise.all([
      cachedGet(this.url("/units"), all), cachedGet(this.url("/command-nodes"), all),
      cachedGet(this.url("/zones"), all), cachedGet(this.url("/posts"), all),
      cachedGet(this.url("/my-units")).catch((err) => {
        if (err instanceof AuthError) throw err;
        return {data: [], fresh: true}; // a server without the route: any unit
      }),
    ]);
    this.units = new Map(this.track(units).map((u) => [u.id, u]));
    this.linked = new Set(this.track(mine).map((u) => u.id));
    this.nodes = new Map(this.track(nodes).map((n) => [n.id, n]));
    this.zones = new Map(this.track(zones).map((z) => [z.id, z]));
    this.posts = this.track(posts);
    // display names of the actors a task names (user:zhang -> 张警官); none is no harm: the login name shows
    this.names = (await cachedGet("/auth/names").catch(() => ({data: {}}))).data || {};
    this.emit("event");
  }

  /** "user:zhang" -> 张警官, "system:simulator" -> 仿真系统 (the command map's rule, with this app's names). */
  actorName(actor) {
    return nameOf(actor, this.names);
  }

  /** My tasks (my node's and my unit's: a dispatch 派警 names the unit), the open warnings and my reports. */
  async loadMine() {
    const node = this.myNode();
    const none = Promise.resolve({data: [], fresh: true});
    const [tasks, unitTasks, warnings, incidents] = await Promise.all([
      node ? cachedGet(this.url("/tasks"), {command_node_id: node.id, open: "true"}) : none,
      this.unitId ? cachedGet(this.url("/tasks"), {unit_id: this.unitId, open: "true"}) : none,
      cachedGet(this.url("/warnings"), {status: "open"}),
      cachedGet(this.url("/incidents"), {limit: 200}).catch((err) => {
        if (err instanceof AuthError) throw err;
        return {data: this.incidents, fresh: false, error: err};
      }),
    ]);
    this.tasks = new Map([...this.track(tasks), ...this.track(unitTasks)].map((x) => [x.id, x]));
    this.warnings = new Map(this.track(warnings).map((w) => [w.id, w]));
    const everyIncident = this.track(incidents);
    this.incidentById = new Map(everyIncident.map((i) => [i.id, i])); // the incidents my task cards are about
    this.incidents = everyIncident.filter((i) => this.isMine(i));
    this.emit("tasks");
    this.emit("warnings", {});
    this.emit("incidents");
  }

  // ------------------------------------------------------------------ my unit, node and zones

  get unitId() {
    let id = null;
    try {
      const u = JSON.parse(localStorage.getItem(UNIT_KEY) || "null");
      id = u && u.event_id === this.eventId && u.username === this.username ? u.unit_id : null;
    } catch {
      id = null;
    }
    // a login linked to units (an officer) works for those only (the server refuses the others' tasks): a unit
    // picked before the link changed is picked again
    return this.linked.size && !this.linked.has(id) ? null : id;
  }

  /** The units I may pick: those my login is linked to, else every unit of the event. */
  pickableUnits() {
    const all = [...this.units.values()];
    return this.linked.size ? all.filter((u) => this.linked.has(u.id)) : all;
  }

  setUnit(unitId) {
    localStorage.setItem(UNIT_KEY, JSON.stringify({event_id: this.eventId, unit_id: unitId, username: this.username}));
  }

  myUnit() {
    return this.units.get(this.unitId) || null;
  }

  myNode() {
    const u = this.myUnit();
    return u?.command_node_id ? this.nodes.get(u.command_node_id) || null : null;
  }

  /** Ids of my node's zones and of every zone inside them. */
  myZoneIds() {
    const node = this.myNode();
    const ids = new Set();
    if (!node) return ids;
    const codes = new Set(node.zone_codes || []);
    for (const z of this.zones.values()) if (codes.has(z.code)) ids.add(z.id);
    let grew = true;
    while (grew) {
      grew = false;
      for (const z of this.zones.values()) {
        if (!ids.has(z.id) && z.parent_id !== null && ids.has(z.parent_id)) {
          ids.add(z.id);
          grew = true;
        }
      }
    }
    return ids;
  }

  myPosts() {
    const zones = this.myZoneIds();
    return this.posts.filter((p) => p.zone_id !== null && zones.has(p.zone_id));
  }

  /** A report by me (the server names the actor "user:<name>") or by my unit. */
  isMine(incident) {
    const by = incident.reported_by || "";
    return by === this.username || by === `user:${this.username}` || (this.unitId !== null && incident.unit_id === this.unitId);
  }

  isMyTask(task) {
    const node = this.myNode();
    return Boolean((node && task.command_node_id === node.id) || (this.unitId && task.unit_id === this.unitId));
  }

  /** True when my unit has no zones of its own (no node, or a node without zones): its warnings are the event's. */
  warningsFallback() {
    return this.myZoneIds().size === 0;
  }

  /** The warnings of my zones; the whole event's when my unit has no zones (never none at all). */
  myWarnings() {
    const zones = this.myZoneIds();
    if (!zones.size) return this.sortedWarnings();
    return this.sortedWarnings().filter((w) => w.zone_id !== null && zones.has(w.zone_id));
  }

  /** The incident a task is about: from the list, else asked for (and kept for offline use). */
  async incidentOf(task) {
    if (!task.incident_id) return null;
    const known = this.incidentById.get(task.incident_id);
    if (known) return known;
    const {data} = await cachedGet(this.url(`/incidents/${task.incident_id}`));
    this.incidentById.set(data.id, data);
    return data;
  }

  sortedWarnings() {
    return [...this.warnings.values()].sort((a, b) => (a.status === "active" ? 0 : 1) - (b.status === "active" ? 0 : 1)
      || levelRank(b.level) - levelRank(a.level) || new Date(b.changed_at || b.started_at) - new Date(a.changed_at || a.started_at));
  }

  /** The smallest zone containing [lon, lat] (the most precise place name), or null. */
  zoneAt(lon, lat) {
    let best = null;
    for (const z of this.zones.values()) {
      if (!z.geometry || !inGeometry(z.geometry, lon, lat)) continue;
      if (!best || (z.area_m2 ?? Infinity) < (best.area_m2 ?? Infinity)) best = z;
    }
    return best;
  }

  // ------------------------------------------------------------------ live messages

  /** One live-stream message; returns what it meant for me (for the notice), or null. */
  apply(m) {
    const topic = m.topic.split("/").pop();
    const p = m.payload || {};
    if (topic === "warning") {
      const before = this.warnings.get(p.id);
      if (p.status === "closed") this.warnings.delete(p.id);
      else this.warnings.set(p.id, {...before, ...p});
      const zones = this.myZoneIds();
      const mine = !zones.size || (p.zone_id !== null && p.zone_id !== undefined && zones.has(p.zone_id));
      const fresh = !before && p.status !== "closed";
      const rose = Boolean(before) && p.status !== "closed" && levelRank(p.level) > levelRank(before.level);
      this.emit("warnings", {id: p.id});
      return mine && (fresh || rose) ? {kind: "warning", item: this.warnings.get(p.id), rose} : null;
    }
    if (topic === "task") {
      const before = this.tasks.get(p.id);
      if (!this.isMyTask(p)) {
        // given to another node or unit now: it leaves my list
        if (before && this.tasks.delete(p.id)) this.emit("tasks", {id: p.id});
        return null;
      }
      this.tasks.set(p.id, {...before, ...p});
      this.emit("tasks", {id: p.id});
      return !before && !FINAL_TASK.has(p.status) ? {kind: "task", item: p} : null;
    }
    if (topic === "incident") {
      if (this.incidentById.has(p.id)) {
        this.incidentById.set(p.id, {...this.incidentById.get(p.id), ...p});
        if ([...this.tasks.values()].some((x) => x.incident_id === p.id)) this.emit("tasks", {incident: p.id});
      }
      if (!this.isMine(p)) return null;
      const i = this.incidents.findIndex((x) => x.id === p.id);
      if (i >= 0) this.incidents[i] = {...this.incidents[i], ...p};
      else this.incidents.unshift(p);
      this.emit("incidents");
      return null;
    }
    return null;
  }

  /** A task status the server confirmed (from the outbox). */
  updateTask(task) {
    if (!task?.id) return;
    this.tasks.set(task.id, {...this.tasks.get(task.id), ...task});
    this.emit("tasks", {id: task.id});
  }

  /** A report the server stored (from the outbox). */
  addIncident(incident) {
    if (!incident?.id) return;
    const i = this.incidents.findIndex((x) => x.id === incident.id);
    if (i >= 0) this.incidents[i] = incident;
    else this.incidents.unshift(incident);
    this.emit("incidents");
  }
}

// ------------------------------------------------------------------ point in polygon (degrees, venue scale)

function inRing(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(rings, x, y) {
  if (!inRing(rings[0], x, y)) return false;
  return !rings.slice(1).some((hole) => inRing(hole, x, y));
}

export function inGeometry(g, x, y) {
  if (g.type === "Polygon") return inPolygon(g.coordinates, x, y);
  if (g.type === "MultiPolygon") return g.coordinates.some((p) => inPolygon(p, x, y));
  return false;
}
