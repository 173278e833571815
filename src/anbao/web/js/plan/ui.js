// Small pieces the planning tabs share: risk-level chips, a multi-select with a filter, selects from the
// vocabularies, editable rows, a confirmation box, toasts and time formats.
import {el, num} from "../format.js";
import {t} from "../i18n.js";
import {codes, vocabLabel} from "../vocab.js";

/** The risk levels 低 中 高 极高 (GET /meta/vocab risk_level), least serious first. */
export function riskLevels() {
  return codes("risk_level");
}

/** 1 (low) .. 4 (extreme); 0 for no level. */
export function riskRank(level) {
  return riskLevels().indexOf(level) + 1;
}

/** 低 … 极高 in the current language; 未评 when there is no level yet. */
export function riskLevelLabel(level) {
  return level ? vocabLabel("risk_level", level, `plan.level.${level}`) : t("plan.level.none");
}

/** 低 green / 中 yellow / 高 orange / 极高 red; "未评" when there is no level yet. */
export function levelChip(level, extra = "") {
  if (!level) return el("span", {class: `chip rl rl-none ${extra}`}, riskLevelLabel(null));
  return el("span", {class: `chip rl rl-${level} ${extra}`, dataset: {level}}, riskLevelLabel(level));
}

/** A <select> of ``options`` ([{value, label}]); ``blank`` adds an empty first choice with that text. */
export function selectEl(options, value, {name, blank, cls = "select", ...attrs} = {}) {
  const s = el("select", {class: cls, name, ...attrs});
  if (blank !== undefined) s.append(el("option", {value: ""}, blank));
  for (const o of options) s.append(el("option", {value: o.value, selected: String(o.value) === String(value ?? "")}, o.label));
  if (value === null || value === undefined || value === "") s.value = "";
  return s;
}

/** A labelled field: <label class="fld" data-field=path><span>label</span>input<em class=fmsg></label>. */
export function field(label, input, path, {cls = "", hint} = {}) {
  return el("label", {class: `fld ${cls}`, dataset: path === undefined ? {} : {field: path}},
    el("span", {}, label), input, hint ? el("small", {class: "muted"}, hint) : null, el("em", {class: "fmsg"}));
}

/** Seconds as m:ss (h:mm:ss from an hour up); "—" for none. */
export function mmss(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return "—";
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export function persons(v) {
  return v === null || v === undefined ? "—" : num(v);
}

// ------------------------------------------------------------------ toasts and confirmation

export function toast(text, cls = "good") {
  const box = document.getElementById("toasts");
  const n = el("div", {class: `toast ${cls}`}, text);
  box.prepend(n);
  while (box.children.length > 4) box.lastChild.remove();
  setTimeout(() => n.classList.add("gone"), 4000);
  setTimeout(() => n.remove(), 4600);
}

/** Resolves true when the user confirms ``text`` (the page's own box, not window.confirm). */
export function confirmBox(text, okLabel) {
  const box = document.getElementById("confirm");
  box.querySelector(".pm-text").textContent = text;
  const ok = box.querySelector(".pm-ok");
  const cancel = box.querySelector(".pm-cancel");
  ok.textContent = okLabel || t("plan.confirm");
  box.hidden = false;
  cancel.focus();
  return new Promise((resolve) => {
    const done = (v) => {
      box.hidden = true;
      ok.onclick = cancel.onclick = box.onkeydown = null;
      resolve(v);
    };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    box.onkeydown = (ev) => ev.key === "Escape" && done(false);
  });
}

// ------------------------------------------------------------------ multi-select

let openMs = null;
document.addEventListener("mousedown", (ev) => {
  if (openMs && !openMs.el.contains(ev.target) && !openMs.pop.contains(ev.target)) openMs.close();
});
window.addEventListener("resize", () => openMs?.close());
document.addEventListener("scroll", (ev) => {
  if (openMs && !openMs.pop.contains(ev.target)) openMs.close();
}, true);

/** Pick several of ``options`` ([{value, label, group?, hint?}]); chips show the choice, a pop-up list
 * with a filter changes it. ``value`` is the chosen values in the options' order. */
export class MultiSelect {
  constructor({options = [], value = [], placeholder = "", disabled = false, onChange = () => {}, maxChips = 10, name} = {}) {
    this.options = options;
    this.chosen = new Set(value.map(String));
    this.placeholder = placeholder;
    this.disabled = disabled;
    this.onChange = onChange;
    this.maxChips = maxChips;
    this.box = el("div", {class: "ms-box", tabindex: disabled ? null : "0", role: "button",
      onclick: () => this.toggle(), onkeydown: (ev) => {
        if (ev.key === "Enter" || ev.key === " " || ev.key === "ArrowDown") {
          ev.preventDefault();
          this.open();
        }
      }});
    this.el = el("div", {class: `ms${disabled ? " disabled" : ""}`, dataset: name ? {name} : {}}, this.box);
    this.pop = el("div", {class: "ms-pop"});
    this.pop.hidden = true;
    document.body.append(this.pop);
    this.drawBox();
  }

  get value() {
    return this.options.filter((o) => this.chosen.has(String(o.value))).map((o) => o.value);
  }

  set value(v) {
    this.chosen = new Set((v || []).map(String));
    this.drawBox();
  }

  drawBox() {
    const picked = this.options.filter((o) => this.chosen.has(String(o.value)));
    const chips = picked.slice(0, this.maxChips).map((o) => el("span", {class: "ms-chip", title: o.hint || ""}, o.short || o.label));
    if (picked.length > this.maxChips) chips.push(el("span", {class: "ms-more"}, t("plan.ms.more", {n: picked.length - this.maxChips})));
    this.box.replaceChildren(...(chips.length ? chips : [el("span", {class: "ms-ph"}, this.disabled ? "—" : this.placeholder)]),
      this.disabled ? "" : el("i", {class: "ms-caret"}));
  }

  toggle() {
    if (this.pop.hidden) this.open();
    else this.close();
  }

  open() {
    if (this.disabled) return;
    openMs?.close();
    openMs = this;
    const filter = el("input", {class: "ms-filter", type: "search", placeholder: t("plan.ms.filter"),
      oninput: () => this.drawList(filter.value.trim().toLowerCase())});
    this.list = el("div", {class: "ms-list"});
    const all = el("button", {type: "button", class: "btn small ghost", onclick: () => this.setAll(true)}, t("plan.ms.all"));
    const none = el("button", {type: "button", class: "btn small ghost", onclick: () => this.setAll(false)}, t("plan.ms.none"));
    const close = el("button", {type: "button", class: "btn small", onclick: () => this.close()}, t("plan.ms.done"));
    this.pop.replaceChildren(filter, this.list, el("div", {class: "ms-foot"}, all, none, el("span", {class: "ms-n muted"}), close));
    this.filterText = "";
    this.drawList("");
    const r = this.box.getBoundingClientRect();
    const w = Math.max(r.width, 300);
    this.pop.style.width = `${w}px`;
    this.pop.style.left = `${Math.min(r.left, window.innerWidth - w - 8)}px`;
    const below = window.innerHeight - r.bottom;
    this.pop.hidden = false;
    const h = this.pop.offsetHeight;
    this.pop.style.top = `${below >= h + 8 || below > r.top ? r.bottom + 2 : Math.max(8, r.top - h - 2)}px`;
    this.box.classList.add("open");
    filter.focus();
  }

  close() {
    if (this.pop.hidden) return;
    this.pop.hidden = true;
    this.box.classList.remove("open");
    if (openMs === this) openMs = null;
  }

  setAll(on) {
    for (const o of this.shown || this.options) {
      if (on) this.chosen.add(String(o.value));
      else this.chosen.delete(String(o.value));
    }
    this.changed();
    this.drawList(this.filterText);
  }

  changed() {
    this.drawBox();
    this.onChange(this.value);
  }

  drawList(text) {
    this.filterText = text;
    this.shown = this.options.filter((o) => !text || `${o.label} ${o.hint || ""} ${o.value}`.toLowerCase().includes(text));
    const rows = [];
    let group = null;
    for (const o of this.shown) {
      if (o.group && o.group !== group) {
        group = o.group;
        rows.push(el("div", {class: "ms-group"}, group));
      }
      const box = el("input", {type: "checkbox", checked: this.chosen.has(String(o.value)), onchange: () => {
        if (box.checked) this.chosen.add(String(o.value));
        else this.chosen.delete(String(o.value));
        this.changed();
        this.pop.querySelector(".ms-n").textContent = t("plan.ms.count", {n: this.chosen.size});
      }});
      rows.push(el("label", {class: "ms-opt"}, box, el("span", {}, o.label), o.hint ? el("small", {class: "muted"}, o.hint) : null));
    }
    if (!rows.length) rows.push(el("div", {class: "ms-group"}, t("plan.ms.nothing")));
    this.list.replaceChildren(...rows);
    this.pop.querySelector(".ms-n").textContent = t("plan.ms.count", {n: this.chosen.size});
  }

  destroy() {
    this.close();
    this.pop.remove();
  }
}

// ------------------------------------------------------------------ editable rows

/** A table of rows bound to ``items`` (an array that is changed in place): ``columns`` =
 * [{key, label, input(item, i) -> element}], with up/down/remove per row and an add button. */
export function rowsEditor({items, columns, path, make, readOnly = false, addLabel, order = false, onChange = () => {}, empty}) {
  const wrap = el("div", {class: "rows-ed", dataset: {field: path}});
  const draw = () => {
    const head = el("tr", {}, order ? el("th", {class: "num"}, "#") : null, ...columns.map((c) => el("th", {class: c.cls || ""}, c.label)),
      readOnly ? null : el("th", {class: "act"}));
    const body = items.map((item, i) => el("tr", {dataset: {field: `${path}.${i}`}},
      order ? el("td", {class: "num muted"}, String(i + 1)) : null,
      ...columns.map((c) => el("td", {class: c.cls || "", dataset: {field: `${path}.${i}.${c.key}`}}, c.input(item, i, readOnly),
        el("em", {class: "fmsg"}))),
      readOnly ? null : el("td", {class: "act"},
        order ? el("button", {type: "button", class: "btn small ghost", title: t("plan.row.up"), disabled: i === 0,
          onclick: () => move(i, -1)}, "\u2191") : null,
        order ? el("button", {type: "button", class: "btn small ghost", title: t("plan.row.down"), disabled: i === items.length - 1,
          onclick: () => move(i, 1)}, "\u2193") : null,
        el("button", {type: "button", class: "btn small ghost del", title: t("plan.row.remove"), onclick: () => {
          items.splice(i, 1);
          onChange();
          draw();
        }}, "\u00d7"))));
    const table = items.length ? el("table", {class: "grid rows"}, el("thead", {}, head), el("tbody", {}, body))
      : el("div", {class: "rows-empty muted"}, empty || t("plan.row.none"));
    wrap.replaceChildren(table, el("em", {class: "fmsg"}), readOnly ? "" : el("button", {type: "button", class: "btn small add-row",
      onclick: () => {
        items.push(make());
        onChange();
        draw();
        wrap.querySelector("tbody tr:last-child input, tbody tr:last-child textarea")?.focus();
      }}, `+ ${addLabel || t("plan.row.add")}`));
  };
  const move = (i, d) => {
    const [x] = items.splice(i, 1);
    items.splice(i + d, 0, x);
    onChange();
    draw();
  };
  draw();
  return wrap;
}

/** An <input> bound to ``obj[key]`` (numbers for type=number: empty is null). */
export function boundInput(obj, key, {type = "text", onChange = () => {}, readOnly = false, ...attrs} = {}) {
  const v = obj[key];
  const input = el(type === "textarea" ? "textarea" : "input", {type: type === "textarea" ? null : type, disabled: readOnly, ...attrs});
  input.value = v === null || v === undefined ? "" : String(v);
  const read = () => {
    if (type === "number") obj[key] = input.value === "" ? null : Number(input.value);
    else if (type === "checkbox") obj[key] = input.checked;
    else obj[key] = input.value;
    onChange();
  };
  if (type === "checkbox") input.checked = Boolean(v);
  input.addEventListener(type === "checkbox" ? "change" : "input", read);
  return input;
}
