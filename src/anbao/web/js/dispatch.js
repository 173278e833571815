// 接处警 on the command map: incident markers coloured by status, the incident drawer (facts, status,
// hand-over, recommended units with travel times and their paths on the map, units sent, matched plans,
// the incident's log) and the intake form 接警登记 (place picked on the map). Dispatch is two clicks: the
// incident, then 派警 on a recommended unit.
/* global L */
import {api, ApiError, AuthError} from "./api.js";
import {age, dateTime, el, num} from "./format.js";
import {t} from "./i18n.js";
import {actorName, can} from "./roles.js";
import {uuid} from "./uuid.js";
import {vocabLabel, vocabOptions} from "./vocab.js";

const STATUS_COLORS = {new: "#f03a3a", dispatched: "#ff8a1c", en_route: "#f5c518", on_scene: "#2f7df6",
  resolved: "#2fc56b", closed: "#6b7785"};
const ROUTE_COLORS = ["#4fd1c5", "#9f7aea", "#f6ad55", "#63b3ed", "#f687b3"];
const SENT_COLOR = "#ffe14d"; // the route of a unit sent: one bright line, the candidates gone
const MOVING = ["assigned", "en_route"];

/** Seconds left until a unit sent at ``assignedAt`` with ``etaS`` arrives (negative: late); null without an ETA. */
export function etaLeft(assignedAt, etaS, now = Date.now()) {
  if (etaS === null || etaS === undefined || !assignedAt) return null;
  return Math.round((new Date(assignedAt).getTime() + etaS * 1000 - now) / 1000);
}

/** "2分05秒" / "-0:40" style countdown text in the page's words. */
export function etaText(left) {
  const s = Math.abs(left);
  const time = s >= 60 ? t("dur.ms", {m: Math.floor(s / 60), s: s % 60}) : t("dur.s", {s});
  return left >= 0 ? t("inc.etaLeft", {time}) : t("inc.etaLate", {time});
}

/** Incident markers and recommended-unit paths on the map. */
export class IncidentLayer {
  constructor(mapView, store, onOpen) {
    this.view = mapView;
    this.store = store;
    this.onOpen = onOpen;
    this.markers = new Map();
    this.sent = new Map(); // incident id -> Map unit id -> {coords, straight}: the routes of units sent from here
    this.paths = L.layerGroup();
    this.view.map.createPane("routesPane").style.zIndex = 645;
    this.paths.addTo(this.view.map);
    store.on("incidents", () => this.draw());
    store.on("snapshot", () => this.draw());
    this.draw();
  }

  icon(i) {
    const alone = i.status === "on_scene" && i.unattended;
    return L.divIcon({className: `imark is-${i.status}${alone ? " unattended" : ""}`,
      html: `<b style="background:${STATUS_COLORS[i.status] || "#f03a3a"}"></b>${alone ? "<em>!</em>" : ""}`,
      iconSize: [16, 16], iconAnchor: [8, 8]});
  }

  draw() {
    const group = this.view.layers.incidents;
    for (const i of this.store.incidents.values()) {
      if (i.lon === null || i.lon === undefined) continue;
      let m = this.markers.get(i.id);
      if (!m) {
        m = L.marker(this.view.ll([i.lon, i.lat]), {pane: "incidentsPane", keyboard: false, icon: this.icon(i)});
        m.bindTooltip(() => this.tip(i.id), {className: "tip", direction: "top", offset: [0, -8]});
        m.on("click", (ev) => {
          L.DomEvent.stopPropagation(ev);
          this.onOpen(i.id);
        });
        group.addLayer(m);
        this.markers.set(i.id, m);
      } else {
        m.setLatLng(this.view.ll([i.lon, i.lat]));
        m.setIcon(this.icon(i));
      }
    }
  }

  tip(id) {
    const i = this.store.incidents.get(id);
    return el("div", {},
      el("div", {class: "tip-title"}, vocabLabel("incident_type", i.type) || i.type_zh),
      el("div", {}, vocabLabel("incident_status", i.status)),
      i.status === "on_scene" && i.unattended ? el("div", {class: "unattended-text"}, t("inc.unattended")) : "",
      i.text ? el("div", {}, i.text) : "");
  }

  /** Paths of recommended units: [{coords: [[lon, lat], ...], highlight}]; a path with ``sent`` is a unit on its
   * way (bright, with a label whose text ``label()`` gives). */
  showPaths(paths) {
    this.paths.clearLayers();
    paths.forEach((p, k) => {
      if (!p.coords?.length) return;
      const line = L.polyline(p.coords.map((c) => this.view.ll(c)), {pane: "routesPane",
        color: p.sent ? SENT_COLOR : ROUTE_COLORS[k % ROUTE_COLORS.length], weight: p.sent || p.highlight ? 6 : 3.5,
        opacity: p.sent || p.highlight ? 1 : 0.75, dashArray: p.straight ? "6 6" : null, className: p.sent ? "route-sent" : "route-cand"});
      if (p.label) {
        line.bindTooltip(p.label, {permanent: true, direction: "top", className: "tip route-tip", offset: [0, -6]});
        line.routeLabel = p.label;
      }
      line.addTo(this.paths);
    });
  }

  /** Refresh the countdown labels of sent routes. */
  tickLabels() {
    this.paths.eachLayer((line) => {
      if (line.routeLabel) line.setTooltipContent(line.routeLabel());
    });
  }

  focus(id) {
    const i = this.store.incidents.get(id);
    if (i?.lon != null) this.view.map.setView(this.view.ll([i.lon, i.lat]), Math.max(this.view.map.getZoom(), 17), {animate: false});
  }
}

/** The incident drawer: one incident at a time; reloads when the incident or its tasks change live. */
export class IncidentDrawer {
  constructor(root, store, layer, {toast}) {
    this.root = root;
    this.store = store;
    this.layer = layer;
    this.toast = toast;
    this.id = null;
    this.recs = [];
    root.querySelector(".dw-close").addEventListener("click", () => this.close());
    root.querySelector(".dw-locate").addEventListener("click", () => this.id && layer.focus(this.id));
    store.on("incidents", ({id}) => id === this.id && this.load(false));
    store.on("units", () => this.id && this.renderRecs());
    this.timer = setInterval(() => this.tick(), 1000);
  }

  /** The ETA countdowns of the units sent (drawer and route labels). */
  tick() {
    if (!this.id || this.root.hidden) return;
    for (const n of this.root.querySelectorAll(".eta-left[data-at]")) {
      const left = etaLeft(n.dataset.at, Number(n.dataset.eta));
      n.textContent = etaText(left);
      n.classList.toggle("late", left < 0);
    }
    this.layer.tickLabels();
  }

  async open(id) {
    this.id = id;
    this.root.hidden = false;
    this.root.querySelector(".dw-title").textContent = `${t("inc.title")} #${id}`;
    const loaded = this.load(true);
    this.root.querySelector(".dw-close").focus(); // keyboard users land in the drawer
    await loaded;
  }

  close() {
    const was = !this.root.hidden;
    this.id = null;
    this.root.hidden = true;
    this.layer.showPaths([]);
    if (was) this.root.dispatchEvent(new CustomEvent("drawerclosed"));
  }

  async load(withRecs) {
    const id = this.id;
    try {
      const [detail, log] = await Promise.all([
        api(this.store.url(`/incidents/${id}`)), api(this.store.url(`/incidents/${id}/log`))]);
      if (id !== this.id) return;
      this.detail = detail;
      this.log = log;
      this.render();
      if (withRecs || ["new", "dispatched", "en_route", "on_scene"].includes(detail.status)) await this.loadRecs();
    } catch (err) {
      if (err instanceof AuthError) return;
      this.root.querySelector(".dw-body").replaceChildren(el("div", {class: "err"}, err.message));
    }
  }

  async loadRecs() {
    const box = this.root.querySelector(".inc-recs");
    if (["resolved", "closed"].includes(this.detail.status)) {
      this.recs = [];
      box.replaceChildren();
      this.layer.sent.delete(this.id);
      this.layer.showPaths([]);
      return;
    }
    box.replaceChildren(el("div", {class: "muted"}, t("inc.recLoading")));
    try {
      const lead = this.leadOnly ? this.detail.police_type : undefined;
      const res = await api(this.store.url(`/incidents/${this.id}/recommendations`), {query: {k: 5, police_type: lead}});
      this.recs = res.units || res.recommendations || [];
      this.network = res.network;
    } catch (err) {
      if (err instanceof AuthError) return;
      this.recs = [];
      box.replaceChildren(el("div", {class: "err"}, t("inc.recFailed", {msg: err.message})));
      return;
    }
    this.renderRecs();
  }

  renderRecs(highlight = null) {
    const box = this.root.querySelector(".inc-recs");
    if (!box || !this.detail) return;
    const rows = this.recs.map((r, k) => {
      const unitId = r.unit_id ?? r.id;
      const u = this.store.units.get(unitId);
      const free = !u || u.status === "available";
      return el("li", {class: "rec", onmouseenter: () => this.paths(k), onmouseleave: () => this.paths(null)},
        el("i", {class: "rec-sw", style: `background:${ROUTE_COLORS[k % ROUTE_COLORS.length]}`}),
        el("b", {class: "mono"}, r.call_sign || u?.call_sign || `#${unitId}`),
        el("span", {}, vocabLabel("police_type", r.police_type || u?.police_type)),
        el("span", {class: "muted"}, t(`mode.${r.mode || "foot"}`)),
        el("span", {class: "rec-eta"}, t("inc.eta", {min: num((r.eta_s ?? 0) / 60, 1)})),
        r.distance_m != null ? el("span", {class: "muted"}, `${num(r.distance_m)} m`) : "",
        can("incident:dispatch") ? el("button", {type: "button", class: "btn primary small", disabled: !free, "data-unit": unitId,
          onclick: () => this.assign(unitId, r.eta_s, k)}, free ? t("inc.send") : vocabLabel("unit_status", u.status))
          : el("span", {class: "muted"}, free ? "" : vocabLabel("unit_status", u.status)));
    });
    const only = el("label", {class: "small muted"}, el("input", {type: "checkbox", class: "inc-lead-only",
      checked: this.leadOnly || undefined, onchange: (ev) => {
        this.leadOnly = ev.target.checked;
        this.loadRecs();
      }}), " ", t("inc.leadOnly", {type: vocabLabel("police_type", this.detail.police_type)}));
    box.replaceChildren(only,
      this.network === "straight_line" ? el("div", {class: "muted small"}, t("inc.straight")) : "",
      rows.length ? el("ul", {class: "recs"}, rows) : el("div", {class: "muted"}, t("inc.recNone")));
    this.paths(highlight);
  }

  /** Units of this incident still on their way: [{assignment, route}] (route: {coords, straight} or null). */
  moving() {
    const sent = this.layer.sent.get(this.id) || new Map();
    return (this.detail?.assignments || []).filter((a) => MOVING.includes(a.status)).map((a) => {
      let route = sent.get(a.unit_id) || null;
      const p = this.store.positions.get(a.unit_id);
      if (!route && p && this.detail.lon != null) { // sent before this page was opened: straight from where it is
        route = {coords: [[p.lon, p.lat], [this.detail.lon, this.detail.lat]], straight: true};
      }
      return {assignment: a, route};
    });
  }

  /** Once a unit is on its way only its route is drawn (with the ETA counting down); the candidates' routes
   * come back only while one is hovered. Before that, every candidate's route. */
  paths(highlight) {
    const moving = this.moving();
    const cands = this.recs.map((r, k) => ({coords: r.path?.coordinates || r.path || [], highlight: k === highlight,
      straight: this.network === "straight_line" || r.route === "straight_line"}));
    if (!moving.length) {
      this.layer.showPaths(cands);
      return;
    }
    const shown = cands.map((c) => (c.highlight ? c : {coords: []}));
    for (const {assignment: a, route} of moving) {
      if (!route) continue;
      shown.push({...route, sent: true, label: () => `${a.call_sign} · ${a.eta_s != null ? etaText(etaLeft(a.assigned_at, a.eta_s)) : ""}`});
    }
    this.layer.showPaths(shown);
  }

  async act(fn, ok) {
    const msg = this.root.querySelector(".dw-msg");
    msg.textContent = "";
    try {
      await fn();
      this.toast(ok);
      await this.load(false);
    } catch (err) {
      if (err instanceof AuthError) return;
      msg.textContent = err instanceof ApiError ? err.message : String(err);
      msg.classList.add("err");
    }
  }

  assign(unitId, etaS, k = null) {
    const r = k === null ? null : this.recs[k];
    const id = this.id;
    return this.act(async () => {
      await api(this.store.url(`/incidents/${id}/assignments`), {method: "POST", body: {unit_id: unitId, eta_s: etaS ?? null}});
      const coords = r?.path?.coordinates || r?.path || [];
      if (coords.length) {
        if (!this.layer.sent.has(id)) this.layer.sent.set(id, new Map());
        this.layer.sent.get(id).set(unitId, {coords, straight: this.network === "straight_line" || r.route === "straight_line"});
      }
    }, t("inc.sent"));
  }

  setStatus(status) {
    const note = this.root.querySelector(".inc-note").value.trim();
    return this.act(() => api(this.store.url(`/incidents/${this.id}/status`), {method: "POST", body: {status, note}}),
      vocabLabel("incident_status", status));
  }

  handover() {
    const type = this.root.querySelector(".inc-handover select").value;
    const note = this.root.querySelector(".inc-note").value.trim();
    return this.act(() => api(this.store.url(`/incidents/${this.id}/handover`), {method: "POST",
      body: {police_type: type, note}}), t("inc.handedOver"));
  }

  render() {
    const d = this.detail;
    const v = vocabLabel;
    this.root.className = `drawer inc-drawer is-${d.status}`;
    const row = (k, val) => el("div", {class: "fact"}, el("span", {class: "muted"}, k), el("span", {}, val));
    const body = this.root.querySelector(".dw-body");
    body.replaceChildren(
      el("div", {class: "inc-head"}, el("span", {class: "chip inc-type"}, v("incident_type", d.type)),
        el("span", {class: "chip"}, v("incident_grade", d.grade)),
        el("span", {class: `chip ist is-${d.status}`}, v("incident_status", d.status))),
      d.text ? el("p", {class: "inc-text"}, d.text) : "",
      el("div", {class: "facts"},
        row(t("inc.place"), this.store.zoneName(d.zone_id) || (d.lon != null ? `${num(d.lon, 5)}, ${num(d.lat, 5)}` : "—")),
        row(t("inc.source"), `${v("incident_source", d.source)} · ${actorName(d.reported_by)}`),
        row(t("inc.reported"), t("inc.reportedAt", {time: dateTime(d.reported_at), age: age(d.reported_at)})),
        row(t("inc.lead"), v("police_type", d.police_type))),
      d.status === "on_scene" && d.unattended ? el("div", {class: "unattended-box", role: "alert"},
        el("b", {}, t("inc.unattended")), " ", t("inc.unattendedHint")) : "");
    const dispatcher = can("incident:dispatch");
    for (const sel of [".inc-note", ".inc-actions", ".inc-handle-title"]) this.root.querySelector(sel).hidden = !dispatcher;
    const actions = this.root.querySelector(".inc-actions");
    actions.replaceChildren(...(dispatcher ? d.next_statuses : []).filter((s) => s !== "dispatched").map((s) =>
      el("button", {type: "button", class: `btn small${s === "resolved" ? " primary" : ""}`, onclick: () => this.setStatus(s)},
        v("incident_status", s))));
    const sel = this.root.querySelector(".inc-handover select");
    if (!sel.options.length) {
      for (const o of vocabOptions("police_type")) sel.append(el("option", {value: o.value}, o.label));
    }
    sel.value = d.police_type;
    this.root.querySelector(".inc-handover").hidden = d.status === "closed" || !dispatcher;
    this.root.querySelector(".inc-assigned").replaceChildren(...(d.assignments.length ? d.assignments.map((a) =>
      el("li", {}, el("b", {class: "mono"}, a.call_sign), " ", v("assignment_status", a.status),
        el("span", {class: "muted"}, ` · ${dateTime(a.assigned_at)}`),
        a.eta_s != null ? el("span", {class: "muted"}, ` · ${t("inc.eta", {min: num(a.eta_s / 60, 1)})}`) : "",
        a.eta_s != null && MOVING.includes(a.status) ? [" · ", el("span", {class: "eta-left", dataset: {at: a.assigned_at, eta: a.eta_s}},
          etaText(etaLeft(a.assigned_at, a.eta_s)))] : "",
        a.by ? el("span", {class: "muted"}, ` · ${t("inc.by", {name: actorName(a.by)})}`) : ""))
      : [el("li", {class: "muted"}, t("inc.noneSent"))]));
    this.root.querySelector(".inc-plans").replaceChildren(...(d.plans.length ? d.plans.map((p) =>
      el("li", {}, el("b", {}, `${p.code} ${p.name}`), p.activation_id ? el("span", {class: "chip ok"}, t("inc.started")) : "",
        el("div", {class: "muted small"}, p.reason)))
      : [el("li", {class: "muted"}, t("inc.noPlan"))]));
    this.root.querySelector(".inc-log").replaceChildren(...this.log.map((e) =>
      el("li", {}, el("span", {class: "mono muted"}, dateTime(e.at)), " ", e.text)));
  }
}

/** 接警登记: a new incident from a call; the place is picked on the map. */
export class IntakeForm {
  constructor(root, store, mapView, {toast, onCreated}) {
    this.root = root;
    this.store = store;
    this.view = mapView;
    this.toast = toast;
    this.onCreated = onCreated;
    this.point = null;
    this.marker = null;
    const form = root.querySelector("form");
    const fill = (name, table) => {
      const sel = form.elements[name];
      for (const o of vocabOptions(table)) sel.append(el("option", {value: o.value}, o.label));
    };
    fill("type", "incident_type");
    fill("grade", "incident_grade");
    fill("source", "incident_source");
    form.elements.source.value = "call_110";
    root.querySelector(".dw-close").addEventListener("click", () => this.close());
    root.querySelector(".pick").addEventListener("click", () => {
      this.picking = true;
      this.view.map.getContainer().classList.add("picking");
      root.querySelector(".pick-msg").textContent = t("intake.clickMap");
    });
    this.view.map.on("preclick", (ev) => { // before the zone under the pointer takes the click
      if (!this.picking) return;
      this.picking = false;
      this.view.map.getContainer().classList.remove("picking");
      this.setPoint(ev.latlng);
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.submit(form);
    });
  }

  setPoint(latlng) {
    const [lon, lat] = this.view.unll(latlng); // the map may be in GCJ-02 (Chinese tiles); the server stores WGS-84
    this.point = [lon, lat];
    if (this.marker) this.marker.remove();
    this.marker = L.circleMarker(latlng, {radius: 7, color: "#fff", fillColor: "#f03a3a", fillOpacity: 0.9}).addTo(this.view.map);
    this.root.querySelector(".pick-msg").textContent = `${num(lon, 5)}, ${num(lat, 5)}`;
  }

  open() {
    this.root.hidden = false;
    this.root.querySelector(".dw-msg").textContent = "";
  }

  close() {
    this.root.hidden = true;
    this.picking = false;
    if (this.marker) this.marker.remove();
    this.marker = null;
    this.point = null;
    this.root.querySelector(".pick-msg").textContent = "";
  }

  async submit(form) {
    const msg = this.root.querySelector(".dw-msg");
    msg.textContent = "";
    msg.classList.remove("err");
    const body = {client_key: uuid(), type: form.elements.type.value, grade: form.elements.grade.value,
      source: form.elements.source.value, text: form.elements.text.value.trim()};
    if (this.point) [body.lon, body.lat] = this.point;
    if (!this.point) {
      msg.textContent = t("intake.needPlace");
      msg.classList.add("err");
      return;
    }
    try {
      const inc = await api(this.store.url("/incidents"), {method: "POST", body});
      form.reset();
      form.elements.source.value = "call_110";
      this.close();
      this.toast(t("intake.done", {id: inc.id}));
      this.onCreated(inc.id);
    } catch (err) {
      if (err instanceof AuthError) return;
      msg.textContent = err.message;
      msg.classList.add("err");
    }
  }
}
