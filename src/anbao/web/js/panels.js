// Side panels of the command map: warnings queue and warning detail (acknowledge, close, plans and
// tasks), incidents (empty until 接处警), units, and the top bar of figures.
import {api, ApiError, AuthError} from "./api.js";
import {age, dateTime, el, num, density as fmtDensity} from "./format.js";
import {t} from "./i18n.js";
import {kindLabel} from "./mapview.js";
import {actorName, can} from "./roles.js";
import {levelCodes, levelLabel, vocabLabel} from "./vocab.js";

const DRAFT = "anbao.draft.";

// ------------------------------------------------------------------ figures (top bar)

export function renderFigures(root, store) {
  const people = store.peopleOnSite();
  const [top] = store.busiest(1);
  const wc = store.warningCounts();
  const uc = store.unitCounts();
  root.querySelector("[data-fig=people]").textContent = num(people);
  const busy = root.querySelector("[data-fig=busiest]");
  busy.replaceChildren(top ? el("span", {class: `lvtext lv-${top.state.level}`}, top.props.name) : "—");
  root.querySelector("[data-fig=busiest-d]").textContent = top ? `${fmtDensity(top.state.density)} ${t("unit.density")}` : "";
  const counts = root.querySelector("[data-fig=levels]");
  if (!counts.children.length) { // one counter per warning level, the most serious first
    counts.replaceChildren(...levelCodes().reverse().map((lv) => el("span", {class: `lvc lv-${lv}`}, el("b", {dataset: {fig: `w-${lv}`}}, "0"))));
  }
  for (const lv of levelCodes()) {
    const n = root.querySelector(`[data-fig=w-${lv}]`);
    n.textContent = wc[lv] || 0;
    n.parentElement.classList.toggle("zero", !wc[lv]);
  }
  const unacked = root.querySelector("[data-fig=w-active]");
  if (unacked) unacked.textContent = wc.active;
  root.querySelector("[data-fig=tasks]").textContent = num(store.tasks.size);
  root.querySelector("[data-fig=units]").textContent = num(uc.available);
  root.querySelector("[data-fig=units-total]").textContent = `/ ${num(uc.total)}`;
}

// ------------------------------------------------------------------ warnings queue

export function renderQueue(list, store, {onOpen, onAck, selectedId, compact = false}) {
  const items = store.sortedWarnings();
  list.replaceChildren();
  if (!items.length) {
    list.append(el("li", {class: "empty"}, el("div", {class: "empty-title"}, t("warnings.none")), el("div", {}, t("warnings.noneHint"))));
    return;
  }
  for (const w of items) {
    const zone = store.zoneName(w.zone_id);
    const device = w.device_id ? store.devices.get(w.device_id)?.props.code : null;
    const place = [zone, device].filter(Boolean).join(" · "); // "主舞台 · SMK-003", never run together
    const li = el("li", {class: `wq lv-${w.level} st-${w.status}${selectedId === w.id ? " sel" : ""}`, dataset: {id: w.id},
      tabindex: compact ? null : "0", onclick: () => onOpen?.(w.id),
      onkeydown: (ev) => ev.key === "Enter" && onOpen?.(w.id)},
    el("div", {class: "wq-head"},
      el("span", {class: `chip lv-${w.level}`}, levelLabel(w.level)),
      el("span", {class: "wq-kind"}, kindLabel(w.kind)),
      el("span", {class: "wq-zone"}, place),
      el("span", {class: "wq-age age", dataset: {since: w.started_at}}, age(w.started_at))),
    el("div", {class: "wq-msg"}, w.message),
    compact ? null : el("div", {class: "wq-foot"},
      el("span", {class: `st st-${w.status}`}, t(`wstatus.${w.status}`)),
      w.escalations ? el("span", {class: "esc"}, t("warnings.escalated", {n: w.escalations, to: w.escalated_to})) : null,
      w.exercise ? el("span", {class: "chip drill"}, t("warnings.exercise")) : null,
      w.status === "active" && can("warning:handle") ? el("button", {class: "btn small ack", type: "button",
        onclick: (ev) => {
          ev.stopPropagation();
          onAck?.(w.id);
        }}, t("warnings.ack")) : null));
    list.append(li);
  }
}

/** Keep every ".age" element ticking. */
export function tickAges(root = document) {
  const now = Date.now();
  for (const n of root.querySelectorAll(".age[data-since]")) n.textContent = age(n.dataset.since, now);
}

// ------------------------------------------------------------------ warning detail drawer

export class WarningDrawer {
  constructor(root, store, {onLocate, toast}) {
    this.root = root;
    this.store = store;
    this.onLocate = onLocate;
    this.toast = toast;
    this.id = null;
    this.warning = null;
    this.body = root.querySelector(".dw-body");
    this.plansBox = root.querySelector(".dw-plans");
    this.comment = root.querySelector("textarea");
    this.msg = root.querySelector(".dw-msg");
    root.querySelector(".dw-close").addEventListener("click", () => this.close());
    root.querySelector(".dw-locate").addEventListener("click", () => this.id && this.onLocate(this.id));
    root.querySelector("[data-act=ack]").addEventListener("click", () => this.submit("ack"));
    root.querySelector("[data-act=close]").addEventListener("click", () => this.submit("close"));
    this.comment.addEventListener("input", () => {
      if (this.id) sessionStorage.setItem(DRAFT + this.id, this.comment.value);
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !this.root.hidden && !document.body.classList.contains("needs-login")) this.close();
    });
    store.on("warnings", ({id, warning}) => {
      if (id !== this.id) return;
      this.warning = {...this.warning, ...(store.warnings.get(id) || warning)};
      this.render();
    });
    store.on("tasks", ({task}) => {
      if (this.id && task.warning_id === this.id) this.loadPlans();
    });
    store.on("plans", ({activation}) => {
      if (this.id && activation.warning_id === this.id) this.loadPlans();
    });
  }

  open(id, {focus = false} = {}) {
    if (this.id !== id) {
      this.id = id;
      this.warning = this.store.warnings.get(id) || null;
      this.comment.value = sessionStorage.getItem(DRAFT + id) || "";
      this.msg.textContent = "";
      this.msg.className = "dw-msg";
    }
    this.root.hidden = false;
    this.render();
    this.loadPlans();
    if (focus && can("warning:handle")) this.comment.focus();
    else this.root.querySelector(".dw-close").focus(); // keyboard users land in the drawer
    this.root.dispatchEvent(new CustomEvent("drawer", {detail: {id}}));
  }

  close() {
    const was = !this.root.hidden;
    this.root.hidden = true;
    this.id = null;
    this.root.dispatchEvent(new CustomEvent("drawer", {detail: {id: null}}));
    if (was) this.root.dispatchEvent(new CustomEvent("drawerclosed"));
  }

  render() {
    const w = this.warning;
    if (!w) return;
    const zone = this.store.zoneName(w.zone_id);
    const device = w.device_id ? this.store.devices.get(w.device_id)?.props : null;
    this.root.className = `drawer lv-${w.level}`;
    this.root.querySelector(".dw-title").replaceChildren(
      el("span", {class: `chip lv-${w.level}`}, levelLabel(w.level)), " ", kindLabel(w.kind), zone ? ` · ${zone}` : "");
    const row = (label, value) => [el("dt", {}, label), el("dd", {}, value ?? "—")];
    this.body.replaceChildren(
      el("p", {class: "dw-text"}, w.message),
      el("dl", {class: "facts"},
        row(t("dw.status"), el("span", {class: `st st-${w.status}`}, t(`wstatus.${w.status}`))),
        row(t("dw.started"), dateTime(w.started_at)),
        row(t("dw.age"), el("span", {class: "age", dataset: {since: w.started_at}}, age(w.started_at))),
        row(t("dw.value"), w.value === null || w.value === undefined ? "—" : num(w.value, 2)),
        row(t("dw.peak"), el("span", {class: `lvtext lv-${w.peak_level}`}, levelLabel(w.peak_level))),
        device ? row(t("dw.device"), `${device.code} ${device.name || ""}`) : [],
        w.escalations ? row(t("dw.escalated"), t("warnings.escalated", {n: w.escalations, to: w.escalated_to})) : [],
        w.acknowledged_by ? row(t("dw.ackBy"), `${actorName(w.acknowledged_by)} · ${dateTime(w.acknowledged_at)}`) : [],
        w.comment ? row(t("dw.comment"), el("span", {class: "pre"}, w.comment)) : []));
    const closed = w.status === "closed";
    this.root.querySelector("[data-act=ack]").disabled = closed || w.status === "acknowledged";
    this.root.querySelector("[data-act=close]").disabled = closed;
  }

  async loadPlans() {
    const id = this.id;
    if (!id) return;
    try {
      const [acts, tasks] = await Promise.all([
        api(this.store.url("/plan-activations"), {query: {warning_id: id}}),
        api(this.store.url("/tasks"), {query: {warning_id: id}}),
      ]);
      if (id !== this.id) return;
      this.renderPlans(acts, tasks);
    } catch (err) {
      if (err instanceof AuthError) return;
      this.plansBox.replaceChildren(el("div", {class: "error"}, t("error.load", {detail: err.message})));
    }
  }

  renderPlans(acts, tasks) {
    if (!acts.length && !tasks.length) {
      this.plansBox.replaceChildren(el("div", {class: "muted"}, t("dw.noPlan")));
      return;
    }
    const blocks = acts.map((a) => {
      const plan = this.store.plans.get(a.plan_id);
      const mine = tasks.filter((x) => x.activation_id === a.id);
      return el("div", {class: "plan"},
        el("div", {class: "plan-head"},
          el("span", {class: "plan-name"}, plan ? plan.name : `#${a.plan_id}`),
          plan ? el("span", {class: "muted"}, ` ${plan.code}`) : null,
          a.level ? el("span", {class: `chip lv-${a.level}`}, levelLabel(a.level)) : null),
        el("div", {class: "muted small"}, `${dateTime(a.at)} · ${actorName(a.by)}${a.reason ? ` · ${a.reason}` : ""}`),
        this.taskList(mine));
    });
    const loose = tasks.filter((x) => !acts.some((a) => a.id === x.activation_id));
    if (loose.length) blocks.push(el("div", {class: "plan"}, el("div", {class: "plan-head"}, t("dw.otherTasks")), this.taskList(loose)));
    this.plansBox.replaceChildren(...blocks);
  }

  taskList(tasks) {
    if (!tasks.length) return el("div", {class: "muted small"}, t("dw.noTasks"));
    const now = Date.now();
    return el("ol", {class: "tasks"}, tasks.sort((a, b) => a.id - b.id).map((x) => {
      const node = x.command_node_id ? this.store.nodes.get(x.command_node_id) : null;
      const late = x.due_at && !["done", "cancelled"].includes(x.status) && new Date(x.due_at) < now;
      return el("li", {class: `task ts-${x.status}`},
        el("span", {class: `tstat ts-${x.status}`}, vocabLabel("task_status", x.status)),
        el("span", {class: "ttitle"}, x.title),
        el("span", {class: `tmeta${late ? " late" : ""}`}, [node ? node.name : "", x.due_at ? t("dw.due", {at: dateTime(x.due_at)}) : ""].filter(Boolean).join(" · ")));
    }));
  }

  async submit(action) {
    const id = this.id;
    const comment = this.comment.value.trim();
    this.msg.className = "dw-msg";
    if (action === "close" && !comment) {
      this.msg.textContent = t("dw.needComment");
      this.msg.classList.add("bad");
      this.comment.focus();
      return;
    }
    const buttons = this.root.querySelectorAll("[data-act]");
    for (const b of buttons) b.disabled = true;
    this.msg.textContent = t("dw.sending");
    try {
      const w = await api(this.store.url(`/warnings/${id}/${action}`), {method: "POST", body: {comment}});
      sessionStorage.removeItem(DRAFT + id);
      if (this.id === id) this.comment.value = "";
      this.store.apply({topic: `event/${this.store.eventId}/warning`, payload: w});
      this.msg.textContent = t(action === "ack" ? "dw.acked" : "dw.closed");
      this.msg.classList.add("good");
      this.toast(t(action === "ack" ? "toast.acked" : "toast.closed", {id}));
    } catch (err) {
      this.msg.classList.add("bad");
      if (err instanceof AuthError) this.msg.textContent = t("dw.authLost");
      else if (err instanceof ApiError) this.msg.textContent = err.message; // in Chinese, the server's text as detail
      else this.msg.textContent = t("error.network");
    } finally {
      if (this.warning) this.render();
      else for (const b of buttons) b.disabled = false;
    }
  }
}

// ------------------------------------------------------------------ incidents (接处警)

/** 处置效能 above the incident list: median and p90 minutes from report to dispatch, arrival, resolution. */
export function renderIncidentStats(box, stats) {
  const all = stats?.all?.[0];
  if (!all?.incidents) {
    box.replaceChildren();
    return;
  }
  const m = (f) => (f.p50_s === null ? "—" : `${num(f.p50_s / 60, 1)} / ${num(f.p90_s / 60, 1)}`);
  box.replaceChildren(el("div", {class: "istats", title: t("istats.hint")},
    el("span", {}, t("istats.count", {n: all.incidents, open: all.open})),
    el("span", {}, t("istats.dispatch"), " ", el("b", {}, m(all.dispatch))),
    el("span", {}, t("istats.arrival"), " ", el("b", {}, m(all.arrival))),
    el("span", {}, t("istats.resolution"), " ", el("b", {}, m(all.resolution)))));
}

/** The incident list, newest first; clicking one calls onOpen(id). */
export function renderIncidents(box, store, onOpen = () => {}) {
  const items = [...store.incidents.values()].sort((a, b) => new Date(b.reported_at) - new Date(a.reported_at));
  if (!items.length) {
    box.replaceChildren(el("div", {class: "empty"},
      el("div", {class: "empty-title"}, t("incidents.none")),
      store.features.incidents ? null : el("div", {}, t("incidents.comesWith"))));
    return;
  }
  box.replaceChildren(el("ul", {class: "incidents"}, items.slice(0, 50).map((i) => el("li", {
    class: `inc is-${i.status}${i.status === "on_scene" && i.unattended ? " unattended" : ""}`,
    dataset: {id: i.id}, tabindex: "0", onclick: () => onOpen(i.id), onkeydown: (ev) => ev.key === "Enter" && onOpen(i.id)},
    el("div", {class: "wq-head"},
      el("span", {class: "chip inc-type"}, vocabLabel("incident_type", i.type) || i.type_zh || i.type),
      el("span", {class: "wq-zone"}, store.zoneName(i.zone_id)),
      el("span", {class: "wq-age age", dataset: {since: i.reported_at}}, age(i.reported_at))),
    i.text ? el("div", {class: "wq-msg"}, i.text) : null,
    el("div", {class: "wq-foot muted"}, vocabLabel("incident_status", i.status),
      i.status === "on_scene" && i.unattended ? el("span", {class: "chip unattended", title: t("inc.unattendedHint")}, t("inc.unattended")) : "",
      i.reported_by ? ` · ${actorName(i.reported_by)}` : "")))));
}

// ------------------------------------------------------------------ units

/** The unit list; clicking a unit with a position calls onPick(unit id). */
export function renderUnits(box, store, filter, setFilter, onPick = () => {}) {
  const counts = store.unitCounts();
  const chips = box.querySelector(".unit-filter");
  chips.replaceChildren(...["all", "available", "assigned", "busy", "off_duty"].map((s) =>
    el("button", {type: "button", class: `uf us-${s}${filter === s ? " on" : ""}`, onclick: () => setFilter(s)},
      s === "all" ? t("units.all") : vocabLabel("unit_status", s), " ", el("b", {}, s === "all" ? counts.total : counts[s] || 0))));
  const units = [...store.units.values()].filter((u) => filter === "all" || u.status === filter)
    .sort((a, b) => a.code.localeCompare(b.code));
  const tbody = box.querySelector("tbody");
  const fix = (u) => {
    const p = store.positions.get(u.id);
    return p ? el("span", {title: t("units.fixAgo", {age: age(p.at)})}, t("units.fixAgo", {age: age(p.at)}))
      : el("span", {class: "muted"}, t("units.noFix"));
  };
  tbody.replaceChildren(...units.map((u) => el("tr", {class: store.positions.has(u.id) ? "pick" : "",
    dataset: {unit: u.id}, onclick: () => store.positions.has(u.id) && onPick(u.id)},
    el("td", {class: "mono"}, u.call_sign),
    el("td", {}, u.name),
    el("td", {}, vocabLabel("police_type", u.police_type)),
    el("td", {}, el("span", {class: `ustat us-${u.status}`}, vocabLabel("unit_status", u.status))),
    el("td", {class: "muted"}, store.nodes.get(u.command_node_id)?.name || ""),
    el("td", {}, fix(u)))));
  if (!units.length) tbody.append(el("tr", {}, el("td", {colspan: 6, class: "muted"}, t("units.none"))));
}
