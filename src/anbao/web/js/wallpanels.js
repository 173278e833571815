// The wall's own panels: the event phase 入场/演出/散场 with its countdown, the police strength 警力 by type
// and status with the on-duty rate 在岗率, and the open incidents. Pure functions of the store and the clock.
import {age, el, hm, num} from "./format.js";
import {t} from "./i18n.js";
import {codes, vocabLabel} from "./vocab.js";

/** Entry 入场 opens this long before a session starts (the demo plan: 开场前 2 小时开始检票入场; an event
 * has no doors-open time of its own); egress 散场 is shown this long after it ends. */
export const ENTRY_BEFORE_MS = 2 * 3600e3;
export const EGRESS_AFTER_MS = 3600e3;
const FINAL_INCIDENT = new Set(["resolved", "closed"]);

/** The phase at ``now`` (ms) of an event's sessions ([{label, start, end}]):
 * {phase: idle|entry|show|egress|over|none, session, target (ms the countdown runs to, or since for egress)}. */
export function eventPhase(sessions, now = Date.now()) {
  const all = (sessions || []).map((s) => ({...s, t0: new Date(s.start).getTime(), t1: new Date(s.end).getTime()}))
    .filter((s) => Number.isFinite(s.t0) && Number.isFinite(s.t1)).sort((a, b) => a.t0 - b.t0);
  if (!all.length) return {phase: "none", session: null, target: null};
  const s = all.find((x) => x.t1 + EGRESS_AFTER_MS > now);
  if (!s) return {phase: "over", session: all[all.length - 1], target: null};
  if (now < s.t0 - ENTRY_BEFORE_MS) return {phase: "idle", session: s, target: s.t0 - ENTRY_BEFORE_MS};
  if (now < s.t0) return {phase: "entry", session: s, target: s.t0};
  if (now < s.t1) return {phase: "show", session: s, target: s.t1};
  return {phase: "egress", session: s, target: s.t1};
}

/** 04:05:06 for a span of ms; 3天 04:05 (no seconds) a day or more ahead. */
export function countdown(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const two = (x) => String(x).padStart(2, "0");
  const hm2 = `${two(Math.floor(s / 3600) % 24)}:${two(Math.floor(s / 60) % 60)}`;
  return d ? `${t("wall.days", {d})} ${hm2}` : `${hm2}:${two(s % 60)}`;
}

export function renderPhase(root, event, now = Date.now()) {
  const p = eventPhase(event?.sessions, now);
  root.className = `tile wide phase ph-${p.phase}`;
  root.dataset.phase = p.phase;
  root.querySelector("#ph-name").textContent = t(`wall.ph.${p.phase}`);
  root.querySelector("#ph-session").textContent = p.session
    ? `${p.session.label || ""} ${hm(p.session.t0)}–${hm(p.session.t1)}` : "";
  const count = root.querySelector("#ph-count");
  count.textContent = p.target === null ? "" : p.phase === "egress" ? `+${countdown(now - p.target)}` : countdown(p.target - now);
  root.querySelector("#ph-next").textContent = p.target === null ? "" : t(`wall.to.${p.phase}`, {time: hm(p.target)});
  return p;
}

/** Police strength: units by type (rows) and status (columns); 在岗率 = units not 休整 (off_duty) / all units. */
export function strength(units) {
  const statuses = codes("unit_status");
  const byType = new Map();
  const total = Object.fromEntries(statuses.map((s) => [s, 0]));
  let n = 0;
  for (const u of units) {
    if (!byType.has(u.police_type)) byType.set(u.police_type, Object.fromEntries(statuses.map((s) => [s, 0])));
    const row = byType.get(u.police_type);
    row[u.status] = (row[u.status] || 0) + 1;
    total[u.status] = (total[u.status] || 0) + 1;
    n += 1;
  }
  const order = codes("police_type");
  const types = [...byType.keys()].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  return {statuses, types, byType, total, n, onDuty: n - (total.off_duty || 0), rate: n ? (n - (total.off_duty || 0)) / n : null};
}

export function renderStrength(box, rateNode, units) {
  const s = strength(units);
  rateNode.replaceChildren(t("wall.onDuty"), " ", el("b", {class: "on-rate", dataset: {fig: "on-duty-rate"}},
    s.rate === null ? "—" : `${num(s.rate * 100, 0)}%`), ` (${num(s.onDuty)}/${num(s.n)})`);
  if (!s.n) {
    box.replaceChildren(el("div", {class: "empty"}, el("div", {class: "empty-title"}, t("units.none"))));
    return s;
  }
  const cell = (v, cls = "") => el("td", {class: `${cls}${v ? "" : " zero"}`}, num(v));
  const sum = (row) => s.statuses.reduce((a, st) => a + (row[st] || 0), 0);
  box.replaceChildren(el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, t("units.type")),
      s.statuses.map((st) => el("th", {class: `us-${st}`}, vocabLabel("unit_status", st))), el("th", {}, t("wall.total")))),
    el("tbody", {}, s.types.map((ty) => el("tr", {dataset: {type: ty}}, el("td", {}, vocabLabel("police_type", ty)),
      s.statuses.map((st) => cell(s.byType.get(ty)[st], `us-${st}`)), cell(sum(s.byType.get(ty)))))),
    el("tfoot", {}, el("tr", {}, el("td", {}, t("wall.total")),
      s.statuses.map((st) => cell(s.total[st], `us-${st}`)), cell(s.n)))));
  return s;
}

/** The open incidents (not 处置完毕/已结案), newest first, as many as fit. */
export function renderWallIncidents(box, countNode, store) {
  const all = [...store.incidents.values()];
  const open = all.filter((i) => !FINAL_INCIDENT.has(i.status))
    .sort((a, b) => new Date(b.reported_at) - new Date(a.reported_at));
  countNode.textContent = t("wall.incCount", {open: open.length, n: all.length});
  if (!open.length) {
    box.replaceChildren(el("div", {class: "empty"}, el("div", {class: "empty-title"},
      store.features.incidents ? t("wall.incNone") : t("incidents.none"))));
    return;
  }
  const list = el("ul", {class: "incidents"}, open.slice(0, 12).map((i) => el("li", {class: `inc is-${i.status}`, dataset: {id: i.id}},
    el("div", {class: "wq-head"},
      el("span", {class: "chip inc-type"}, vocabLabel("incident_type", i.type) || i.type),
      el("span", {class: "wq-zone"}, store.zoneName(i.zone_id) || i.place || ""),
      el("span", {class: "inc-st"}, vocabLabel("incident_status", i.status)),
      el("span", {class: "wq-age age", dataset: {since: i.reported_at}}, age(i.reported_at))),
    i.text ? el("div", {class: "wq-msg"}, i.text) : null)));
  box.replaceChildren(list);
  while (list.children.length > 1 && list.lastChild.offsetTop + list.lastChild.offsetHeight > box.clientHeight) list.lastChild.remove();
  if (list.children.length < open.length) countNode.textContent = t("wall.more", {n: open.length, shown: list.children.length});
}
