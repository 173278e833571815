// The small map of a task card: the task's zone (and the zones around it, faint), the incident's place and
// my unit's position, with the straight line between them. Drawn as SVG from the zone outlines the phone
// already keeps, so it shows without network and without map tiles. The API gives no road route of a unit
// already sent (the dispatch recommendation routes available units only): the line is straight and says so.
import {t} from "./i18n.js";
import {el, num} from "./util.js";

const NS = "http://www.w3.org/2000/svg";
const M_PER_DEG_LAT = 110_574;
const MIN_SPAN_M = 80; // the map shows at least this many metres across
const FAR_M = 5000; // a position farther than this from the task's place is left off the map (named only)

function svg(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  return node;
}

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

function bbox(points) {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** Straight-line distance in metres between two [lon, lat] (equirectangular: exact enough at a venue). */
export function metres(a, b) {
  const k = Math.cos(((a[1] + b[1]) / 2) * Math.PI / 180);
  return Math.hypot((a[0] - b[0]) * k * M_PER_DEG_LAT * 1.0034, (a[1] - b[1]) * M_PER_DEG_LAT);
}

function centre(geometry) {
  const pts = rings(geometry)[0] || [];
  if (!pts.length) return null;
  const [x0, y0, x1, y1] = bbox(pts);
  return [(x0 + x1) / 2, (y0 + y1) / 2];
}

/** The map element for ``task`` (null when there is nothing to place: no zone and no incident place).
 * ``incident``: the incident the task is about, or null; ``position``: my last fix {lon, lat, accuracy}. */
export function taskMap(model, task, incident, position) {
  const zone = model.zones.get(task.zone_id ?? incident?.zone_id) || null;
  const place = incident && incident.lon !== null && incident.lon !== undefined ? [incident.lon, incident.lat] : null;
  const target = place || (zone ? centre(zone.geometry) : null);
  if (!target) return null;
  const me = position ? [position.lon, position.lat] : null;
  const dist = me ? metres(me, target) : null;
  const near = me && dist <= FAR_M;
  const pts = [target, ...(zone ? rings(zone.geometry)[0] || [] : []), ...(near ? [me] : [])];
  let [x0, y0, x1, y1] = bbox(pts);
  const lat0 = (y0 + y1) / 2;
  const kx = Math.cos(lat0 * Math.PI / 180) * M_PER_DEG_LAT * 1.0034;
  const ky = M_PER_DEG_LAT;
  const px = (p) => [(p[0] - x0) * kx, (y1 - p[1]) * ky];
  let w = (x1 - x0) * kx;
  let h = (y1 - y0) * ky;
  // pad 15 % and keep at least MIN_SPAN_M, keeping the map 2:1 (the card's shape)
  const span = Math.max(MIN_SPAN_M, w * 1.3, h * 1.3 * 2);
  const padX = (span - w) / 2;
  const padY = (span / 2 - h) / 2;
  x0 -= padX / kx;
  x1 += padX / kx;
  y0 -= padY / ky;
  y1 += padY / ky;
  w = span;
  h = span / 2;
  const r = span / 90; // marker size in metres of this view
  const map = svg("svg", {viewBox: `0 0 ${w.toFixed(1)} ${h.toFixed(1)}`, class: "tmap-svg", role: "img",
    "aria-label": t("tasks.mapAria")});
  const path = (geometry) => rings(geometry).map((ring) => `M${ring.map((p) => px(p).map((v) => v.toFixed(1)).join(",")).join("L")}Z`).join("");
  for (const z of model.zones.values()) {
    if (!z.geometry || z.id === zone?.id) continue;
    const [a, b, c, d] = bbox(rings(z.geometry)[0] || [[0, 0]]);
    if (c < x0 || a > x1 || d < y0 || b > y1) continue;
    map.append(svg("path", {d: path(z.geometry), class: "tm-zone"}));
  }
  if (zone) map.append(svg("path", {d: path(zone.geometry), class: "tm-target"}));
  if (near) {
    const [ax, ay] = px(me);
    const [bx, by] = px(target);
    map.append(svg("line", {x1: ax, y1: ay, x2: bx, y2: by, class: "tm-line"}));
    if (position.accuracy) map.append(svg("circle", {cx: ax, cy: ay, r: Math.min(position.accuracy, span / 3), class: "tm-acc"}));
    map.append(svg("circle", {cx: ax, cy: ay, r: r * 1.4, class: "tm-me"}));
  }
  const [tx, ty] = px(target);
  if (place) {
    map.append(svg("path", {d: `M${tx},${ty - r * 2.2}L${tx + r * 2.2},${ty}L${tx},${ty + r * 2.2}L${tx - r * 2.2},${ty}Z`, class: "tm-inc"}));
  } else {
    map.append(svg("circle", {cx: tx, cy: ty, r: r * 1.6, class: "tm-place"}));
  }
  for (const node of map.querySelectorAll("path, line, circle")) node.setAttribute("vector-effect", "non-scaling-stroke");
  const legend = el("div", {class: "tmap-legend small"},
    zone ? el("span", {class: "lg-zone"}, zone.name) : null,
    place ? el("span", {class: "lg-inc"}, t("tasks.mapIncident")) : null,
    me ? el("span", {class: "lg-me"}, t("tasks.mapMe")) : el("span", {class: "muted"}, t("tasks.mapNoFix")),
    me ? el("span", {class: "lg-dist", dataset: {m: Math.round(dist)}}, t("tasks.mapStraight", {m: num(dist)})) : null);
  return el("div", {class: "tmap", dataset: {task: task.id}}, map, legend);
}
