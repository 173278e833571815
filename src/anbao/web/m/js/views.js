// Screens of the mobile app other than the report form: pick my unit, my post and tasks, warnings of my
// zones, and 我的 (position sharing, the outbox, unit, language, logout).
import {blobUrl} from "/js/api.js";
import {FINAL_TASK} from "./data.js";
import {INTERVALS} from "./geo.js";
import {levelLabel, vocabLabel} from "/js/vocab.js";
import {has, t} from "./i18n.js";
import {taskMap} from "./taskmap.js";
import {$, ago, dateTime, el, fill, hm, hms, num} from "./util.js";

const STEPS = ["accepted", "arrived", "done"];
const noteDrafts = new Map(); // task id -> the note being typed (kept across re-renders)
const ORDER = {open: 0, accepted: 1, arrived: 2, done: 3, cancelled: 4};
const photos = new Map(); // incident id -> object URL of its photo | "loading" | "failed"
const asked = new Set(); // incident ids asked for once (a task about an incident not in my list)

/** The incident a task is about, as a block of the card: type, status, place, text and photo. */
function incidentBlock(model, task, rerender) {
  if (!task.incident_id) return null;
  const inc = model.incidentById.get(task.incident_id);
  if (!inc) {
    if (!asked.has(task.incident_id)) {
      asked.add(task.incident_id);
      model.incidentOf(task).then(rerender, (err) => console.warn("incident", err));
    }
    return el("div", {class: "task-inc muted small"}, t("tasks.incLoading", {id: task.incident_id}));
  }
  let photo = null;
  if (inc.has_photo) {
    const got = photos.get(inc.id);
    if (!got) {
      photos.set(inc.id, "loading");
      blobUrl(model.url(`/incidents/${inc.id}/photo`)).then((url) => {
        photos.set(inc.id, url);
        rerender();
      }, () => {
        photos.set(inc.id, "failed");
        rerender();
      });
    }
    const state = photos.get(inc.id);
    photo = state === "loading" ? el("div", {class: "muted small"}, t("tasks.photoLoading"))
      : state === "failed" ? el("div", {class: "muted small"}, t("tasks.photoFailed"))
        : el("a", {href: state, target: "_blank", class: "task-photo"}, el("img", {src: state, alt: t("tasks.photoAlt")}));
  }
  return el("div", {class: "task-inc", dataset: {incident: inc.id}},
    el("div", {class: "inc-head"},
      el("span", {class: "chip inc-type"}, vocabLabel("incident_type", inc.type) || inc.type_zh || inc.type),
      el("span", {class: `tag st-${inc.status}`}, vocabLabel("incident_status", inc.status, `istatus.${inc.status}`)),
      el("span", {class: "muted small"}, t("tasks.incReported", {time: hm(inc.reported_at)}))),
    inc.text && inc.text !== task.detail ? el("div", {class: "inc-text"}, inc.text) : null,
    photo);
}

// ------------------------------------------------------------------ pick my unit

export function renderUnitPicker(model, {onPick}) {
  const list = $("#unit-list");
  const q = $("#unit-search").value.trim().toLowerCase();
  const groups = new Map();
  for (const u of model.pickableUnits().sort((a, b) => a.code.localeCompare(b.code))) {
    const hay = `${u.code} ${u.call_sign} ${u.name} ${model.nodes.get(u.command_node_id)?.name || ""}`.toLowerCase();
    if (q && !hay.includes(q)) continue;
    const key = u.command_node_id ?? 0;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(u);
  }
  const current = model.unitId;
  const out = [];
  for (const [nodeId, units] of [...groups].sort((a, b) => a[0] - b[0])) {
    out.push(el("h3", {class: "group"}, model.nodes.get(nodeId)?.name || t("unit.noNode")));
    for (const u of units) {
      out.push(el("button", {type: "button", class: `unit${u.id === current ? " on" : ""}`, dataset: {id: u.id, code: u.code},
        onclick: () => onPick(u.id)},
      el("b", {class: "mono"}, u.call_sign),
      el("span", {class: "unit-name"}, u.name),
      el("small", {class: "muted"}, [vocabLabel("police_type", u.police_type),
        vocabLabel("unit_status", u.status)].filter(Boolean).join(" · "))));
    }
  }
  fill(list, ...(out.length ? out : [el("p", {class: "empty"}, t(model.units.size ? "unit.noMatch" : "unit.noUnits"))]));
}

// ------------------------------------------------------------------ my post and tasks

export function renderPost(model) {
  const box = $("#my-post");
  const unit = model.myUnit();
  const node = model.myNode();
  if (!unit) {
    fill(box, el("p", {class: "muted"}, t("unit.none")));
    return;
  }
  const zones = [...model.zones.values()].filter((z) => (node?.zone_codes || []).includes(z.code));
  const posts = model.myPosts();
  const open = box.dataset.open === "1";
  fill(box,
    el("div", {class: "card-head"}, el("h3", {}, t("post.title")), el("span", {class: "muted small"}, unit.call_sign)),
    el("div", {class: "node"}, node ? node.name : t("post.noNode")),
    node?.leader ? el("div", {class: "muted small"}, t("post.leader", {name: node.leader})) : null,
    zones.length && open ? el("div", {class: "chips"}, zones.map((z) => el("span", {class: "zchip"}, z.name))) : null,
    zones.length && !open ? el("div", {class: "zline"}, t("post.zones", {n: zones.length, names: zones.map((z) => z.name).join(t("post.sep"))})) : null,
    open && posts.length ? el("ul", {class: "posts"}, posts.map((p) => el("li", {},
      el("span", {class: `pdot${p.critical ? " critical" : ""}`}),
      el("span", {class: "pname"}, p.name),
      el("small", {class: "muted"}, [model.zones.get(p.zone_id)?.name, t("post.staff", {n: p.min_staff}),
        p.critical ? t("post.critical") : null].filter(Boolean).join(" · "))))) : null,
    open ? el("p", {class: "muted small"}, t("post.shiftMissing")) : null,
    posts.length ? el("button", {type: "button", class: "btn ghost small more", "aria-expanded": open ? "true" : "false", onclick: () => {
      box.dataset.open = open ? "" : "1";
      renderPost(model);
    }}, open ? t("post.less") : t("post.more", {n: posts.length, critical: posts.filter((p) => p.critical).length}))
      : el("p", {class: "muted small"}, t("post.none")),
  );
}

/** ``pending``: task id -> the last status waiting in the outbox for it. */
export function renderTasks(model, pending, {onStep, position = null}) {
  const list = $("#task-list");
  const rerender = () => renderTasks(model, pending, {onStep, position});
  const tasks = [...model.tasks.values()].sort((a, b) => (FINAL_TASK.has(a.status) ? 1 : 0) - (FINAL_TASK.has(b.status) ? 1 : 0)
    || (a.due_at ? new Date(a.due_at) : Infinity) - (b.due_at ? new Date(b.due_at) : Infinity) || b.id - a.id);
  const active = tasks.filter((x) => !FINAL_TASK.has(pending.get(x.id) || x.status));
  $("#tasks-count").textContent = active.length ? String(active.length) : "";
  const badge = $("#badge-tasks");
  const unaccepted = active.filter((x) => (pending.get(x.id) || x.status) === "open").length;
  badge.hidden = !unaccepted;
  badge.textContent = unaccepted;
  if (!model.myNode()) {
    fill(list, el("p", {class: "empty"}, t("tasks.noNode")));
    return;
  }
  if (!tasks.length) {
    fill(list, el("div", {class: "empty"}, el("div", {class: "empty-title"}, t("tasks.none")), el("div", {}, t("tasks.noneHint"))));
    return;
  }
  const now = Date.now();
  const typing = document.activeElement?.matches?.("#task-list input.note") ? document.activeElement : null;
  const caret = typing ? [typing.dataset.task, typing.selectionStart, typing.selectionEnd] : null;
  fill(list, ...tasks.map((task) => {
    const queued = pending.get(task.id);
    const status = queued || task.status;
    const final = FINAL_TASK.has(status);
    const overdue = !final && task.due_at && new Date(task.due_at).getTime() < now;
    const note = el("input", {class: "m-input note", maxlength: 2000, placeholder: t("tasks.noteHint"),
      "aria-label": t("tasks.noteHint"), dataset: {task: task.id}, oninput: (ev) => noteDrafts.set(task.id, ev.target.value)});
    note.value = noteDrafts.get(task.id) || "";
    const buttons = STEPS.map((step) => el("button", {
      type: "button", class: `btn step s-${step}${step === nextStep(status) ? " primary" : ""}`, dataset: {step},
      disabled: final || ORDER[step] <= ORDER[status],
      onclick: () => {
        noteDrafts.delete(task.id);
        onStep(task, step, note.value.trim());
      },
    }, t(`tasks.do.${step}`)));
    return el("article", {class: `task st-${status}${final ? " final" : ""}${overdue ? " overdue" : ""}`, dataset: {id: task.id}},
      el("div", {class: "task-head"},
        el("span", {class: `tchip st-${status}`}, vocabLabel("task_status", status, `tstatus.${status}`)),
        queued ? el("span", {class: "tag wait"}, t("tasks.pending")) : null,
        el("b", {class: "task-title"}, task.title)),
      task.detail ? el("div", {class: "task-detail"}, task.detail) : null,
      incidentBlock(model, task, rerender),
      final ? null : taskMap(model, task, model.incidentById.get(task.incident_id) || null, position),
      el("div", {class: "task-meta muted small"}, [
        task.zone_id ? model.zones.get(task.zone_id)?.name : null,
        task.due_at ? t(overdue ? "tasks.overdue" : "tasks.due", {time: hm(task.due_at)}) : null,
        task.warning_id ? t("tasks.fromWarning", {id: task.warning_id}) : null,
        task.changed_by ? t(status === "open" ? "tasks.givenBy" : "tasks.changedBy", {who: model.actorName(task.changed_by)}) : null,
      ].filter(Boolean).join(" · ")),
      task.note ? el("div", {class: "task-note small"}, t("tasks.note", {note: task.note})) : null,
      final ? null : note,
      final ? null : el("div", {class: "task-actions"}, buttons));
  }));
  if (caret) {
    // a live update re-drew the list while the officer typed a note: give the field back
    const again = list.querySelector(`input.note[data-task="${caret[0]}"]`);
    again?.focus();
    again?.setSelectionRange(caret[1], caret[2]);
  }
}

function nextStep(status) {
  return {open: "accepted", accepted: "arrived", arrived: "done"}[status];
}

// ------------------------------------------------------------------ warnings

export function warningKind(w) {
  if (has(`wkind.${w.kind}`)) return t(`wkind.${w.kind}`);
  return w.kind_zh || w.kind || "";
}

export function renderWarnings(model, scope) {
  const mine = model.myWarnings();
  const items = scope === "all" ? model.sortedWarnings() : mine;
  $("#warnings-count").textContent = items.length ? String(items.length) : "";
  const badge = $("#badge-warnings");
  const activeMine = mine.filter((w) => w.status === "active").length;
  badge.hidden = !activeMine;
  badge.textContent = activeMine;
  for (const b of document.querySelectorAll("#warn-scope [data-scope]")) b.classList.toggle("on", b.dataset.scope === scope);
  const node = model.myNode();
  $("#warn-zones").textContent = model.warningsFallback() ? t("warnings.fallback")
    : t("warnings.zonesOf", {node: node.name, n: model.myZoneIds().size});
  const list = $("#warning-list");
  if (!items.length) {
    fill(list, el("div", {class: "empty"}, el("div", {class: "empty-title"}, t("warnings.none")),
      el("div", {}, t(scope === "all" ? "warnings.noneAll" : "warnings.noneHint"))));
    return;
  }
  fill(list, ...items.map((w) => el("article", {class: `wcard lv-${w.level} st-${w.status}`, dataset: {id: w.id}},
    el("div", {class: "warn-head"},
      el("span", {class: `chip lv-${w.level}`}, levelLabel(w.level)),
      el("b", {}, warningKind(w)),
      el("span", {class: "warn-zone"}, model.zones.get(w.zone_id)?.name || ""),
      el("span", {class: "age mono small", dataset: {since: w.started_at}}, ago(w.started_at))),
    el("div", {class: "warn-msg"}, w.message),
    el("div", {class: "muted small"}, [t(`wstatus.${w.status}`), w.exercise ? t("warnings.exercise") : null,
      t("warnings.since", {time: hms(w.started_at)})].filter(Boolean).join(" · ")))));
}

// ------------------------------------------------------------------ 我的

export function renderShare(sharer) {
  const on = $("#share-on");
  on.checked = sharer.on;
  const sel = $("#share-interval");
  if (!sel.options.length || sel.dataset.lang !== document.documentElement.lang) {
    sel.replaceChildren(...INTERVALS.map((s) => el("option", {value: s}, t("share.every", {s}))));
    sel.dataset.lang = document.documentElement.lang;
  }
  sel.value = String(sharer.interval);
  const box = $("#share-status");
  const parts = [];
  if (!sharer.unitId()) parts.push(t("share.needUnit"));
  else if (!sharer.on) parts.push(t("share.off"));
  else parts.push(t("share.on", {s: sharer.interval}));
  if (sharer.last) parts.push(t("share.lastFix", {time: hms(sharer.last.at), m: num(sharer.last.accuracy)}));
  if (sharer.lastQueued) parts.push(t("share.lastQueued", {time: hms(sharer.lastQueued)}));
  if (sharer.lastSent) parts.push(t("share.lastSent", {time: hms(sharer.lastSent)}));
  if (sharer.error) parts.push(t(`gps.${sharer.error}`));
  fill(box, ...parts.map((p) => el("div", {}, p)));
  document.body.classList.toggle("sharing", sharer.on && Boolean(sharer.unitId()));
}

function kindLabel(item) {
  if (item.kind === "task") return t("outbox.kind.task", {status: t(`tasks.do.${item.meta.status}`), title: item.meta.title || `#${item.meta.task_id}`});
  if (item.kind === "incident") return t("outbox.kind.incident", {text: (item.meta.text || "").slice(0, 24)});
  return t("outbox.kind.position");
}

/** The outbox's one-line state (count, sending, retry countdown): cheap enough to refresh every second. */
export function renderOutboxState(outbox) {
  const n = outbox.waiting;
  const st = outbox.state;
  const parts = [t("outbox.count", {n})];
  if (n) {
    if (st === "retry" && outbox.retryAt) parts.push(t("outbox.retryIn", {s: Math.max(1, Math.ceil((outbox.retryAt - Date.now()) / 1000))}));
    else parts.push(t(`outbox.state.${st}`));
  }
  if (outbox.sent) parts.push(t("outbox.sentSession", {n: outbox.sent}));
  const state = $("#outbox-state");
  state.textContent = parts.join(" · ");
  state.className = `small ${n ? "wait" : "muted"}`;
}

export async function renderOutbox(outbox, {onRetry, onDrop}) {
  const [waiting, failed] = await Promise.all([outbox.items(), outbox.failed()]);
  renderOutboxState(outbox);
  const shown = waiting.slice(0, 30);
  fill($("#outbox-list"), ...shown.map((w) => el("li", {class: "ob"},
    el("span", {class: "ob-kind"}, kindLabel(w)),
    el("small", {class: "muted"}, [hms(w.created_at), w.tries ? t("outbox.lastError", {n: w.tries, detail: w.last_error}) : null]
      .filter(Boolean).join(" · ")))),
  waiting.length > shown.length ? el("li", {class: "muted small"}, t("outbox.more", {n: waiting.length - shown.length})) : null);
  fill($("#failed-list"), ...failed.map((f) => el("li", {class: "ob bad"},
    el("span", {class: "ob-kind"}, kindLabel(f)),
    el("div", {class: "err"}, t("outbox.refused", {status: f.status, detail: f.error})),
    el("small", {class: "muted"}, dateTime(f.created_at)),
    el("div", {class: "rep-actions"},
      el("button", {type: "button", class: "btn small", onclick: () => onRetry(f)}, t("outbox.retry")),
      el("button", {type: "button", class: "btn small ghost", onclick: () => onDrop(f)}, t("outbox.drop"))))));
}

export function renderMe(model, user) {
  const unit = model.myUnit();
  const node = model.myNode();
  const rows = [
    ["me.user", user ? `${user.username}${user.role ? ` · ${has(`role.${user.role}`) ? t(`role.${user.role}`) : user.role}` : ""}` : "—"],
    ["me.event", model.event?.name || "—"],
    ["me.unit", unit ? `${unit.call_sign} ${unit.name}` : t("unit.none")],
    ["me.node", node?.name || "—"],
  ];
  fill($("#me-facts"), ...rows.flatMap(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v)]));
}
