// 移动警务终端 at /m/: the officer's phone app. Start-up: catalogs, service worker, login, the event,
// my unit (picked once), then my tasks, reports, warnings and position sharing, kept current by the
// same live stream client as the command map (/js/live.js) and sending through the IndexedDB outbox.
import {AuthError} from "/js/api.js";
import {LiveStream} from "/js/live.js";
import {levelLabel, levelRank} from "/js/vocab.js";
import {Model} from "./data.js";
import {Sharer} from "./geo.js";
import {applyI18n, langButtons, loadCatalog, onLang, t} from "./i18n.js";
import {Outbox} from "./outbox.js";
import {ReportForm} from "./report.js";
import * as session from "./session.js";
import {$, $$, ago, buzz, el, fill, hm, setTimeZone} from "./util.js";
import {renderMe, renderOutbox, renderOutboxState, renderPost, renderShare, renderTasks, renderUnitPicker, renderWarnings, warningKind} from "./views.js";

const VERSION = "2026.11.24";
const TABS = ["tasks", "report", "warnings", "me"];

const model = new Model();
let outbox;
let sharer;
let report;
let live = null;
let user = null;
let warnScope = "mine";
let pendingTasks = new Map();
let started = false;
let installPrompt = null;

// ------------------------------------------------------------------ screens

function showScreen(name) {
  for (const s of ["unit", ...TABS]) $(`#screen-${s}`).hidden = s !== name;
  const tabbed = TABS.includes(name);
  $("#tabs").hidden = !tabbed;
  for (const a of $$("#tabs [data-tab]")) a.classList.toggle("on", a.dataset.tab === name);
  document.body.dataset.screen = name;
  if (name === "unit") renderUnitPicker(model, {onPick: pickUnit});
  if (name === "report") report?.locate();
  if (name === "tasks" && started) renderTaskScreen(); // the maps take my latest position
  if (name === "me") renderMePage();
  $(".m-main").scrollTop = 0;
}

function route() {
  if (!started) return;
  if (!model.myUnit()) {
    showScreen("unit");
    return;
  }
  const tab = location.hash.slice(1);
  showScreen(TABS.includes(tab) ? tab : "tasks");
}

// ------------------------------------------------------------------ header, banner, notices

function setConn(state, detail) {
  const box = $("#conn");
  const offline = navigator.onLine === false;
  const st = offline ? "nonet" : state;
  box.dataset.state = st;
  box.className = `m-conn c-${st}`;
  box.querySelector("span").textContent = st === "reconnecting" && detail ? t("conn.retryIn", {s: Math.ceil(detail / 1000)}) : t(`conn.${st}`);
}

function renderHeader() {
  const unit = model.myUnit();
  $("#unit-label").textContent = unit ? `${unit.call_sign} · ${unit.name}` : (model.event?.name || "");
  const badge = $("#outbox-badge");
  const n = outbox?.waiting || 0;
  const failed = outbox?.failedCount || 0;
  badge.hidden = !n && !failed;
  badge.dataset.n = String(n);
  badge.classList.toggle("bad", failed > 0);
  badge.textContent = failed ? `${t("outbox.badge", {n})} · ${t("outbox.failedBadge", {n: failed})}` : t("outbox.badge", {n});
  const me = $("#badge-me");
  me.hidden = !failed;
  me.textContent = failed;
}

function renderBanner() {
  const box = $("#banner");
  let text = "";
  let cls = "";
  if (document.body.classList.contains("login-later")) {
    text = t("banner.loginLater");
    cls = "warn";
  } else if (navigator.onLine === false) {
    text = t("banner.offline");
    cls = "warn";
  } else if (model.stale) {
    text = t("banner.stale");
    cls = "warn";
  }
  box.textContent = text;
  box.className = `m-banner ${cls}`;
  box.hidden = !text;
}

let noticeTimer = null;
function notice(text, cls = "", tab = null) {
  const box = $("#notice");
  fill(box, el("span", {}, text), el("button", {type: "button", class: "x", "aria-label": t("common.close"),
    onclick: (ev) => {
      ev.stopPropagation();
      box.hidden = true;
    }}, "×"));
  box.className = `m-notice ${cls}${cls === "good" ? " bottom" : ""}`;
  box.onclick = tab ? () => {
    box.hidden = true;
    location.hash = tab;
  } : null;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    box.hidden = true;
  }, cls.startsWith("lv-") ? 15000 : cls === "good" ? 4000 : 8000);
}

function showFatal(message, retry) {
  const box = $("#fatal");
  fill(box, el("p", {}, message), retry ? el("button", {type: "button", class: "btn", onclick: () => {
    box.hidden = true;
    retry();
  }}, t("common.retry")) : null);
  box.hidden = false;
}

// ------------------------------------------------------------------ rendering

async function refreshPending() {
  const items = await outbox.items();
  pendingTasks = new Map();
  for (const i of items) if (i.kind === "task") pendingTasks.set(i.meta.task_id, i.meta.status);
}

/** My last position for the task maps: the shared one, else the report form's fix. */
function myPosition() {
  return sharer?.last || report?.fix || null;
}

function renderTaskScreen() {
  renderPost(model);
  renderTasks(model, pendingTasks, {onStep: stepTask, position: myPosition()});
}

function renderMePage() {
  renderMe(model, user);
  renderShare(sharer);
  renderOutbox(outbox, {
    onRetry: (f) => outbox.retryFailed(f.seq),
    onDrop: async (f) => {
      if (confirm(t("outbox.dropConfirm"))) await outbox.dropFailed(f.seq);
    },
  });
  $("#app-version").textContent = t("me.version", {v: VERSION});
  $("#install").hidden = !installPrompt;
}

function renderAll() {
  renderHeader();
  renderBanner();
  renderTaskScreen();
  renderWarnings(model, warnScope);
  report.renderTypes(); // the incident types come with the vocabulary
  report.renderList();
  if (!$("#screen-me").hidden) renderMePage();
  if (!$("#screen-unit").hidden) renderUnitPicker(model, {onPick: pickUnit});
}

// ------------------------------------------------------------------ actions

async function stepTask(task, status, note) {
  try {
    await outbox.add("task", `/api/v1/events/${model.eventId}/tasks/${task.id}/status`, {status, note},
      {task_id: task.id, status, title: task.title});
  } catch (err) {
    notice(t("report.storeFailed", {detail: err?.message || err}), "bad");
  }
}

function pickUnit(unitId) {
  model.setUnit(unitId);
  renderAll();
  sharer.restart();
  model.loadMine().catch(loadFailed);
  location.hash = "tasks";
  route();
}

function loadFailed(err) {
  if (err instanceof AuthError) return; // the login screen is up; loading again after the login
  console.error(err);
  notice(t("common.loadFailed", {detail: err?.detail || err?.message || err}), "bad");
}

// ------------------------------------------------------------------ live

function onLive(m) {
  const news = model.apply(m);
  if (!news) return;
  if (news.kind === "warning") {
    const w = news.item;
    buzz(levelRank(w.level) >= levelRank("orange") ? [300, 120, 300, 120, 300] : [200, 100, 200]);
    notice(t(news.rose ? "notice.warningRose" : "notice.warning", {level: levelLabel(w.level), kind: warningKind(w),
      zone: model.zones.get(w.zone_id)?.name || ""}), `lv-${w.level}`, "warnings");
  } else if (news.kind === "task") {
    buzz([150, 80, 150]);
    notice(t("notice.task", {title: news.item.title}), "task", "tasks");
  }
}

function startLive() {
  if (live) {
    live.resume();
    return;
  }
  live = new LiveStream(model.eventId, {
    onMessage: onLive,
    onState: (state, detail) => {
      setConn(state, detail);
      if (state === "live" && model.stale) reload();
    },
    onResync: () => model.loadMine().catch(loadFailed),
    onAuthLost: () => session.lost("expired"),
    instance: model.config.instance ?? null, // a restarted server numbers its messages anew: the client reloads
  });
  live.start();
}

let reloading = null;
async function reload() {
  if (reloading) return reloading;
  reloading = (async () => {
    try {
      await model.loadBase();
      setTimeZone(model.config.timezone);
      await model.loadEvent();
      await model.loadMine();
    } catch (err) {
      loadFailed(err);
    } finally {
      reloading = null;
      renderAll();
      route();
    }
  })();
  return reloading;
}

// ------------------------------------------------------------------ start-up

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/m/sw.js", {scope: "/m/"});
  } catch (err) {
    console.warn("service worker", err);
  }
}

async function obtainSession() {
  const s = session.current();
  if (s) return session.ensure();
  const last = session.lastUser();
  if (last?.username && navigator.onLine === false) {
    session.login("expired"); // shown once the network is back; meanwhile work on what the phone has
    return last;
  }
  return session.ensure();
}

async function main() {
  await loadCatalog();
  applyI18n();
  langButtons();
  registerServiceWorker();
  session.install();
  session.onState(() => renderBanner());
  outbox = new Outbox({onAuthLost: () => session.lost("expired")});
  sharer = new Sharer({
    enqueue: (body) => outbox.add("position", `/api/v1/events/${model.eventId}/positions`, body, {at: body.at}),
    unitId: () => model.unitId,
  });
  report = new ReportForm({model, outbox, notify: notice});
  try {
    await outbox.refreshCounts();
  } catch (err) {
    showFatal(t("common.noStorage", {detail: err?.message || err}));
    return;
  }
  renderHeader();
  const waitingLogin = () => {
    const box = $("#login-outbox");
    box.hidden = !outbox.waiting;
    box.textContent = t("login.outboxKept", {n: outbox.waiting});
  };
  waitingLogin();
  outbox.addEventListener("change", async () => {
    await refreshPending();
    renderHeader();
    waitingLogin();
    renderTaskScreen();
    report.renderList();
    if (!$("#screen-me").hidden) renderMePage();
  });
  outbox.addEventListener("state", () => {
    if (!$("#screen-me").hidden) renderOutboxState(outbox);
  });
  outbox.addEventListener("sent", ({detail}) => {
    if (detail.item.kind === "incident") {
      model.addIncident(detail.data);
      report.delivered(detail.item, detail.data);
      notice(t("notice.reportSent", {id: detail.data?.id ?? "?"}), "good");
    } else if (detail.item.kind === "task") {
      model.updateTask(detail.data);
    } else if (detail.item.kind === "position") {
      sharer.lastSent = detail.data?.at || new Date().toISOString();
      renderShare(sharer);
    }
  });
  outbox.addEventListener("rejected", ({detail}) => {
    const what = t(`outbox.what.${detail.item.kind}`);
    notice(t("notice.refused", {what, status: detail.status, detail: detail.detail}), "bad", "me");
    if (detail.item.kind === "incident") report.refused(detail.item, detail.status);
    if (detail.item.kind === "task") model.loadMine().catch(loadFailed);
  });
  model.addEventListener("tasks", renderTaskScreen);
  model.addEventListener("warnings", () => renderWarnings(model, warnScope));
  model.addEventListener("incidents", () => report.renderList());
  let lastFix = null;
  sharer.addEventListener("change", () => {
    if (sharer.last !== lastFix) { // a new position: the task maps move my unit
      lastFix = sharer.last;
      if (!$("#screen-tasks").hidden) renderTaskScreen();
    }
    if (!$("#screen-me").hidden) renderShare(sharer);
    else document.body.classList.toggle("sharing", sharer.on && Boolean(sharer.unitId()));
  });

  // controls
  $("#unit-search").addEventListener("input", () => renderUnitPicker(model, {onPick: pickUnit}));
  $("#change-unit").addEventListener("click", () => showScreen("unit"));
  $("#outbox-badge").addEventListener("click", () => {
    location.hash = "me";
  });
  $("#outbox-send").addEventListener("click", () => outbox.kick());
  $("#share-on").addEventListener("change", (ev) => sharer.set(ev.target.checked));
  $("#share-interval").addEventListener("change", (ev) => sharer.set(sharer.on, Number(ev.target.value)));
  for (const b of $$("#warn-scope [data-scope]")) {
    b.addEventListener("click", () => {
      warnScope = b.dataset.scope;
      renderWarnings(model, warnScope);
    });
  }
  $("#logout").addEventListener("click", () => {
    if (outbox.waiting && !confirm(t("me.logoutConfirm", {n: outbox.waiting}))) return;
    sharer.stop();
    live?.stop();
    live = null;
    session.logout();
  });
  $("#install").addEventListener("click", async () => {
    if (!installPrompt) return;
    installPrompt.prompt();
    installPrompt = null;
    $("#install").hidden = true;
  });
  addEventListener("beforeinstallprompt", (ev) => {
    ev.preventDefault();
    installPrompt = ev;
    $("#install").hidden = false;
  });
  addEventListener("hashchange", route);
  addEventListener("online", () => {
    setConn(live?.state || "connecting");
    renderBanner();
    if (live) live.resume();
    if (model.stale) reload();
  });
  addEventListener("offline", () => {
    setConn("offline");
    renderBanner();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") outbox.kick();
  });
  onLang(() => {
    report.relabel();
    renderAll();
    setConn(live?.state || "idle");
  });
  setInterval(() => {
    for (const n of $$(".age[data-since]")) n.textContent = ago(n.dataset.since);
    if (!$("#screen-me").hidden) renderOutboxState(outbox);
  }, 1000);

  document.body.classList.remove("booting");
  const s = await obtainSession();
  user = s;
  model.username = s.username;
  session.onLogin((fresh, {sameUser}) => {
    user = fresh;
    model.username = fresh.username;
    outbox.kick();
    if (!sameUser) {
      live?.stop();
      live = null;
    }
    reload().then(() => {
      if (model.eventId) startLive();
      sharer.restart();
    });
  });

  try {
    const eventId = await model.loadBase();
    setTimeZone(model.config.timezone);
    if (eventId === null) {
      showFatal(t("common.noEvent"));
      return;
    }
    await model.loadEvent();
  } catch (err) {
    if (err instanceof AuthError) {
      await session.login("expired");
      location.reload();
      return;
    }
    showFatal(t("common.startFailed", {detail: err?.detail || err?.message || err}), () => location.reload());
    return;
  }
  started = true;
  await refreshPending();
  renderAll();
  route();
  if (model.myUnit()) await model.loadMine().catch(loadFailed);
  renderAll();
  startLive();
  sharer.restart();
  outbox.kick();
  setConn(live.state);
  document.body.dataset.ready = "1";
  // for the browser tests and for debugging on a phone
  window.anbao = {model, outbox, sharer, report, live: () => live, hm};
}

main().catch((err) => {
  console.error(err);
  showFatal(String(err?.message || err), () => location.reload());
});
