// The planning page 事前规划 at /plan/: risk register and matrix, the "1+N" plans, regulation checks,
// capacity, evacuation runs and the planning documents, one tab each. Same login, catalogs, top bar and
// event choice as the command map; no live stream (planning data changes by the planners' hands).
// Planners (and commanders, admins) edit; every other role reads.
import {api, AuthError} from "../api.js";
import {onLang, t} from "../i18n.js";
import {currentUser, onLogin} from "../session.js";
import {run, startPage, withLogin} from "../shell.js";
import {CapacityTab} from "./capacity.js";
import {CheckTab} from "./check.js";
import {DocsTab} from "./docs.js";
import {EvacTab} from "./evac.js";
import {PlansTab} from "./plans.js";
import {RiskTab} from "./risk.js";
import {toast} from "./ui.js";

const $ = (s) => document.querySelector(s);
const TABS = ["risk", "plans", "check", "capacity", "evac", "docs"];
const EDITORS = new Set(["admin", "commander", "planner"]); // roles with plan:write


/** What every tab needs: the event, its zones, gates, units and command nodes (the vocabularies are in
 * js/vocab.js). */
class Context {
  constructor({eventId, events}) {
    this.eventId = eventId;
    this.events = events;
    this.event = events.find((e) => e.id === eventId);
    this.toast = toast;
    this.listeners = new Map();
  }

  url(path) {
    return `/events/${this.eventId}${path}`;
  }

  get canEdit() {
    return EDITORS.has(currentUser()?.role);
  }

  async loadBase() {
    const [event, zones, gates, units, nodes] = await Promise.all([
      api(this.url("")), api(this.url("/zones"), {query: {limit: 5000}}), api(this.url("/gates"), {query: {limit: 5000}}),
      api(this.url("/units"), {query: {limit: 5000}}), api(this.url("/command-nodes"), {query: {limit: 5000}})]);
    this.event = event;
    this.zones = zones.sort((a, b) => a.ring - b.ring || a.code.localeCompare(b.code));
    this.gates = gates.sort((a, b) => a.code.localeCompare(b.code));
    this.units = units.sort((a, b) => a.police_type.localeCompare(b.police_type) || a.code.localeCompare(b.code));
    this.nodes = nodes;
    this.zoneById = new Map(zones.map((z) => [z.id, z]));
    this.zoneByCode = new Map(zones.map((z) => [z.code, z]));
    this.nodeById = new Map(nodes.map((n) => [n.id, n]));
  }

  /** Something a tab changed that others show (e.g. "plans" for the regulation check). */
  changed(what) {
    for (const fn of this.listeners.get(what) || []) fn();
  }

  on(what, fn) {
    if (!this.listeners.has(what)) this.listeners.set(what, new Set());
    this.listeners.get(what).add(fn);
  }
}

async function main() {
  const start = await startPage({login: {title: "plan.title", subtitle: "plan.subtitle"}});
  if (start === null) return;
  const {events, eventId} = start;
  const ctx = new Context({eventId, events});
  await withLogin(() => ctx.loadBase());

  const showRole = () => {
    document.body.classList.toggle("read-only", !ctx.canEdit);
    $("#readonly").hidden = ctx.canEdit;
  };
  $("#event-name").textContent = ctx.event?.name || "";
  showRole();

  const tabs = {
    risk: new RiskTab(ctx), plans: new PlansTab(ctx), check: new CheckTab(ctx),
    capacity: new CapacityTab(ctx), evac: new EvacTab(ctx), docs: new DocsTab(ctx),
  };
  let current = null;
  async function open(name, {push = true} = {}) {
    if (!TABS.includes(name)) name = "risk";
    if (current === name) return;
    if (current && tabs[current].leave && !(await tabs[current].leave())) {
      history.replaceState(null, "", `#${current}`); // stay, and say so in the address
      return;
    }
    current = name;
    for (const b of document.querySelectorAll("#tabs [data-tab]")) {
      b.classList.toggle("on", b.dataset.tab === name);
      b.setAttribute("aria-selected", String(b.dataset.tab === name));
    }
    for (const p of document.querySelectorAll(".pane")) p.hidden = p.dataset.pane !== name;
    if (push && location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
    document.body.dataset.tab = name;
    try {
      await withLogin(() => tabs[name].show());
    } catch (err) {
      console.error(err);
      toast(t("error.load", {detail: err.message || String(err)}), "lv-red");
    }
  }
  for (const b of document.querySelectorAll("#tabs [data-tab]")) b.addEventListener("click", () => open(b.dataset.tab));
  window.addEventListener("hashchange", () => open(location.hash.slice(1), {push: false}));
  window.addEventListener("beforeunload", (ev) => {
    if (tabs.plans.dirty) ev.preventDefault();
  });

  // a field marked by a refused change loses its mark as soon as it is edited
  const unmark = (ev) => {
    const box = ev.target.closest?.(".invalid");
    if (!box) return;
    box.classList.remove("invalid");
    const msg = box.querySelector(":scope > .fmsg");
    if (msg) msg.textContent = "";
  };
  document.addEventListener("input", unmark);
  document.addEventListener("change", unmark);

  onLang(() => {
    for (const tab of Object.values(tabs)) tab.relabel?.();
  });
  onLogin(() => {
    showRole();
    if (current) tabs[current].show().catch((err) => !(err instanceof AuthError) && console.warn(err));
  });
  document.body.classList.remove("booting");
  window.anbao = {ctx, tabs}; // for the browser tests and the console
  await open(location.hash.slice(1) || "risk", {push: true});
  tabs.check.badge().catch(() => {}); // the number of errors on the tab from the start
  document.body.dataset.ready = "1";
}

run(main);
