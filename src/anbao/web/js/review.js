// The review page 复盘 at /review/: the review statistics of the event (or of one session) and the problems
// found with their evidence (GET /events/{id}/review, docs/review.md); the rules of the findings can be changed.
// Same login, catalogs, top bar and event choice as the other pages.
import {api, download} from "./api.js";
import {dateTime, el, num} from "./format.js";
import {getLang, onLang, t} from "./i18n.js";
import {run, startPage, withLogin} from "./shell.js";
import {levelCodes, levelLabel, vocabLabel} from "./vocab.js";

const $ = (s) => document.querySelector(s);

function secs(figures) {
  return figures && figures.p50_s !== null ? t("review.p50p90", {p50: num(figures.p50_s), p90: num(figures.p90_s)}) : "—";
}

function tile(label, value, detail) {
  return el("div", {class: "rfig"}, el("span", {class: "fig-label"}, label), el("b", {}, value), el("small", {}, detail || ""));
}

class Review {
  constructor(eventId) {
    this.eventId = eventId;
    this.data = null;
    this.session = "";
  }

  query() {
    const f = $("#rules");
    const q = {ack_s: Number(f.ack_min.value) * 60, zone_level: f.zone_level.value, zone_minutes: Number(f.zone_minutes.value),
               silent_s: Number(f.silent_min.value) * 60, flapping: Number(f.flapping.value)};
    if (this.session) q.session_id = this.session;
    return q;
  }

  async load() {
    this.data = await api(`/events/${this.eventId}/review`, {query: this.query()});
    this.draw();
  }

  draw() {
    const d = this.data;
    if (!d) return;
    const s = d.statistics;
    const att = s.attendance;
    const w = s.warnings;
    $("#figures").replaceChildren(
      tile(t("review.fig.peak"), num(att.peak_on_site),
        !att.approved ? t("review.noApproved") : att.peak_on_site === null ? t("review.approved", {approved: num(att.approved)})
          : t("review.ofApproved", {pct: num(att.peak_pct_of_approved, 1), approved: num(att.approved)})),
      tile(t("review.fig.warnings"), num(w.total), levelCodes().map((lv) => `${levelLabel(lv)} ${w.by_level[lv]}`).join(" · ")),
      tile(t("review.fig.ack"), secs(w.acknowledge_s), t("review.neverAcked", {n: w.never_acknowledged})),
      tile(t("review.fig.tasks"), num(s.tasks.total), t("review.overdue", {n: s.tasks.overdue})),
      tile(t("review.fig.incidents"), num(s.incidents.total), t("review.arrival", {v: secs(s.incidents.arrival_s)})),
      tile(t("review.fig.police"), num(s.police.people), t("review.units", {n: s.police.units})));
    $("#find-count").textContent = String(d.findings.length);
    $("#findings").replaceChildren(...(d.findings.length ? d.findings.map((f) => this.finding(f))
      : [el("p", {class: "rempty"}, t("review.noFindings"))]));
    $("#zones").replaceChildren(this.zoneTable(s.crowd.zones));
    $("#devices").replaceChildren(this.deviceTable(s.devices));
  }

  finding(f) {
    const title = getLang() === "zh-CN" ? f.title_zh : f.title_en;
    const shown = f.evidence.slice(0, 8).map((e) => el("li", {}, this.evidence(e)));
    if (f.evidence.length > 8) shown.push(el("li", {class: "muted"}, t("review.more", {n: f.evidence.length - 8})));
    return el("div", {class: "finding", dataset: {code: f.code}}, el("h3", {}, t("review.findingTitle", {title, n: f.count})), el("ul", {}, shown));
  }

  evidence(e) {
    const what = t(`review.record.${e.record}`, {id: e.code || e.id});
    const bits = [what];
    if (e.at) bits.push(dateTime(e.at));
    if (e.seconds !== undefined) bits.push(t("review.seconds", {s: num(e.seconds)}));
    if (e.minutes !== undefined) bits.push(t("review.minutes", {m: num(e.minutes, 1)}));
    if (e.value !== undefined) bits.push(`${num(e.value)} > ${num(e.bound)}`);
    if (e.detail) bits.push(e.detail);
    return bits.join(" · ");
  }

  zoneTable(zones) {
    const head = el("tr", {}, el("th", {}, t("review.col.zone")), el("th", {class: "num"}, t("review.col.peak")),
      el("th", {}, t("review.col.peakAt")), ...levelCodes().map((lv) => el("th", {class: "num"}, t("review.col.minAt", {level: levelLabel(lv)}))));
    const rows = zones.map((z) => el("tr", {}, el("td", {}, z.name), el("td", {class: "num"}, num(z.peak_density, 2)),
      el("td", {}, z.peak_at ? dateTime(z.peak_at) : "—"), ...levelCodes().map((lv) => el("td", {class: "num"}, num(z.minutes_at_or_above[lv], 1)))));
    return el("table", {class: "rtable"}, el("thead", {}, head), el("tbody", {}, rows));
  }

  deviceTable(devices) {
    const head = el("tr", {}, el("th", {}, t("review.col.kind")), el("th", {class: "num"}, t("review.col.devices")),
      el("th", {class: "num"}, t("review.col.reported")), el("th", {class: "num"}, t("review.col.silent")),
      el("th", {class: "num"}, t("review.col.uptime")));
    const rows = Object.entries(devices.by_kind).map(([kind, r]) => el("tr", {}, el("td", {}, vocabLabel("device_kind", kind, "review.col.kind")),
      el("td", {class: "num"}, num(r.devices)), el("td", {class: "num"}, num(r.reported)),
      el("td", {class: "num"}, num(r.silent_periods)), el("td", {class: "num"}, r.uptime_pct === null ? "—" : `${num(r.uptime_pct, 1)}%`)));
    return el("table", {class: "rtable"}, el("thead", {}, head), el("tbody", {}, rows));
  }
}

async function main() {
  const start = await startPage({login: {title: "review.title", subtitle: "review.subtitle"}});
  if (start === null) return;
  const {events, eventId} = start;
  const event = events.find((e) => e.id === eventId);
  $("#event-name").textContent = event?.name || "";
  const page = new Review(eventId);
  const levels = $("#rules").zone_level;
  const labelLevels = () => levels.replaceChildren(...levelCodes().map((lv) => el("option", {value: lv, selected: lv === (levels.value || "orange")}, levelLabel(lv))));
  labelLevels();
  const sessions = await withLogin(() => api(`/events/${eventId}`)).then((e) => e.sessions || []);
  const sel = $("#session-select");
  const labelSessions = () => sel.replaceChildren(el("option", {value: ""}, t("review.allSessions")),
    ...sessions.map((s) => el("option", {value: s.id, selected: String(s.id) === page.session}, s.label || dateTime(s.start))));
  labelSessions();
  sel.addEventListener("change", () => {
    page.session = sel.value;
    withLogin(() => page.load());
  });
  $("#summary").addEventListener("click", () => {
    const q = page.session ? `?session_id=${page.session}` : "";
    withLogin(() => download(`/events/${eventId}/review/summary.docx${q}`, "summary.docx"));
  });
  $("#rules").addEventListener("submit", (ev) => {
    ev.preventDefault();
    withLogin(() => page.load());
  });
  onLang(() => {
    labelLevels();
    labelSessions();
    page.draw();
  });
  document.body.classList.remove("booting");
  window.anbao = {page}; // for the browser tests and the console
  await withLogin(() => page.load());
  document.body.dataset.ready = "1";
}

run(main);
