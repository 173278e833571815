// 风险评估: the risk register, the 5 x 5 matrix as a heat-map (inherent or residual), a risk's experts
// and controls in a drawer, new risks, and the matrix editor (PUT, or back to the built-in matrix).
import {dateTime, el} from "../format.js";
import {api} from "../api.js";
import {t} from "../i18n.js";
import {vocabLabel, vocabOptions} from "../vocab.js";
import {clearErrors, problemText, showErrors} from "./errors.js";
import {MultiSelect, boundInput, confirmBox, field, levelChip, riskLevelLabel, riskLevels, riskRank, rowsEditor, selectEl} from "./ui.js";

const SCALE = [1, 2, 3, 4, 5];
const root = () => document.getElementById("pane-risk");

export function zoneOptions(ctx) {
  return ctx.zones.map((z) => ({value: z.id, label: z.name, short: z.name, hint: z.code,
    group: vocabLabel("zone_kind", z.kind)}))
    .sort((a, b) => a.group.localeCompare(b.group) || a.hint.localeCompare(b.hint));
}

function scaleOptions(kind) {
  return SCALE.map((n) => ({value: n, label: `${n} · ${t(`plan.${kind}.${n}`)}`}));
}

export class RiskTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.risks = [];
    this.matrix = null;
    this.mode = "counts";
    this.cell = null; // [likelihood, impact] the register is filtered to
    this.openId = null;
    const r = root();
    this.table = r.querySelector("table.risks tbody");
    for (const b of r.querySelectorAll("#heat-mode button")) {
      b.addEventListener("click", () => {
        this.mode = b.dataset.mode;
        this.cell = null;
        this.renderHeat();
        this.renderTable();
      });
    }
    r.querySelector("#mx-edit").addEventListener("click", () => this.openEditor());
    r.querySelector("#risk-add-open").addEventListener("click", () => this.openNew());
    for (const d of r.querySelectorAll(".pdrawer")) {
      d.querySelector(".dw-close").addEventListener("click", () => this.closeDrawers());
    }
    this.setupNewForm();
    this.setupEditor();
  }

  async show() {
    await this.load();
  }

  async load() {
    const [risks, matrix, zoneRisks] = await Promise.all([
      api(this.ctx.url("/risks")), api(this.ctx.url("/risk-matrix")), api(this.ctx.url("/zone-risks"))]);
    this.risks = risks.sort((a, b) => riskRank(b.aggregate?.level) - riskRank(a.aggregate?.level)
      || a.code.localeCompare(b.code));
    this.matrix = matrix;
    this.zoneRisks = zoneRisks;
    this.renderAll();
    if (this.openId !== null) {
      if (this.risks.some((x) => x.id === this.openId)) this.renderDrawer();
      else this.closeDrawers();
    }
  }

  relabel() {
    if (!this.matrix) return;
    this.renderAll();
    if (this.openId !== null) this.renderDrawer();
    this.fillNewFormChoices();
    if (!root().querySelector("#mx-editor").hidden) this.drawEditorGrid(this.editorRows());
  }

  renderAll() {
    this.renderSummary();
    this.renderTable();
    this.renderHeat();
    this.renderZoneRisks();
  }

  level(l, i) {
    return this.matrix?.rows?.[l - 1]?.[i - 1];
  }

  cellOf(r) {
    if (this.mode === "counts") return r.aggregate ? [r.aggregate.likelihood, r.aggregate.impact] : null;
    return r.residual_likelihood && r.residual_impact ? [r.residual_likelihood, r.residual_impact] : null;
  }

  // -------------------------------------------------------------- register

  renderSummary() {
    const box = root().querySelector("#risk-summary");
    const levels = riskLevels().reverse(); // the most serious first
    const by = Object.fromEntries(levels.map((lv) => [lv, 0]));
    let unscored = 0;
    let consult = 0;
    for (const r of this.risks) {
      if (r.aggregate) by[r.aggregate.level] += 1;
      else unscored += 1;
      if (r.aggregate?.disagreement) consult += 1;
    }
    box.replaceChildren(
      ...levels.map((lv) => el("span", {class: `rs rs-${lv}${by[lv] ? "" : " zero"}`},
        levelChip(lv), el("b", {}, String(by[lv])))),
      el("span", {class: "rs"}, el("span", {class: "muted"}, t("plan.risk.unscored")), el("b", {}, String(unscored))),
      el("span", {class: `rs${consult ? " hot" : " zero"}`}, el("span", {class: "chip consult"}, t("plan.risk.consult")), el("b", {}, String(consult))));
    root().querySelector("#risk-count").textContent = t("plan.risk.count", {n: this.risks.length});
  }

  renderTable() {
    const shown = this.cell ? this.risks.filter((r) => {
      const c = this.cellOf(r);
      return c && c[0] === this.cell[0] && c[1] === this.cell[1];
    }) : this.risks;
    const note = root().querySelector("#risk-filter");
    note.hidden = !this.cell;
    if (this.cell) {
      note.replaceChildren(t(this.mode === "counts" ? "plan.risk.filtered" : "plan.risk.filteredResidual",
        {l: this.cell[0], i: this.cell[1]}), el("button", {type: "button", class: "btn small ghost", onclick: () => {
        this.cell = null;
        this.renderHeat();
        this.renderTable();
      }}, t("plan.risk.clearFilter")));
    }
    const limit = this.matrix?.spread_limit ?? 2;
    if (!shown.length) {
      this.table.replaceChildren(el("tr", {}, el("td", {colspan: 10, class: "empty"},
        el("div", {class: "empty-title"}, t(this.risks.length ? "plan.risk.noneInCell" : "plan.risk.none")),
        this.risks.length || !this.ctx.canEdit ? null : el("div", {}, t("plan.risk.noneHint")))));
      return;
    }
    this.table.replaceChildren(...shown.map((r) => {
      const a = r.aggregate;
      const wide = a && (a.likelihood_spread >= limit || a.impact_spread >= limit);
      return el("tr", {class: `pick${r.id === this.openId ? " sel" : ""}`, dataset: {id: r.id, code: r.code}, tabindex: "0",
        onclick: () => this.openRisk(r.id), onkeydown: (ev) => ev.key === "Enter" && this.openRisk(r.id)},
      el("td", {class: "mono"}, r.code),
      el("td", {class: "name", title: r.name}, r.name),
      el("td", {}, vocabLabel("risk_category", r.category)),
      el("td", {class: "muted"}, vocabLabel("risk_source", r.source)),
      el("td", {class: "num"}, a ? String(a.n) : "0"),
      el("td", {class: "num mono"}, a ? `${a.likelihood} / ${a.impact}` : "—"),
      el("td", {}, levelChip(a?.level)),
      el("td", {class: `num mono${wide ? " wide" : ""}`, title: t("plan.risk.spreadHint")}, a ? `${a.likelihood_spread} / ${a.impact_spread}` : "—"),
      el("td", {class: "consult-cell"}, a?.disagreement
        ? [el("span", {class: "chip consult"}, t("plan.risk.consult")), el("small", {class: "reason", title: a.reason}, a.reason)] : "—"),
      el("td", {}, r.residual_level ? [levelChip(r.residual_level), el("small", {class: "mono muted"},
        ` ${r.residual_likelihood}/${r.residual_impact}`)] : el("span", {class: "muted"}, "—")));
    }));
  }

  // -------------------------------------------------------------- heat-map

  renderHeat() {
    const m = this.matrix;
    if (!m) return;
    const counts = m[this.mode] || [];
    for (const b of root().querySelectorAll("#heat-mode button")) b.classList.toggle("on", b.dataset.mode === this.mode);
    const kind = root().querySelector("#mx-kind");
    kind.textContent = t(m.default ? "plan.matrix.default" : "plan.matrix.custom");
    kind.classList.toggle("custom", !m.default);
    const grid = el("div", {class: "heat"});
    grid.append(el("div", {class: "hy-title"}, t("plan.matrix.likelihood")));
    for (const l of [5, 4, 3, 2, 1]) {
      grid.append(el("div", {class: "hl"}, el("b", {}, String(l)), el("small", {}, t(`plan.l.${l}`))));
      for (const i of SCALE) {
        const lv = this.level(l, i);
        const n = counts[l - 1]?.[i - 1] || 0;
        const sel = this.cell && this.cell[0] === l && this.cell[1] === i;
        const open = this.risks.find((x) => x.id === this.openId);
        const oc = open ? this.cellOf(open) : null;
        const mine = oc && oc[0] === l && oc[1] === i;
        grid.append(el("button", {type: "button", class: `hc rl-${lv}${n ? " has" : ""}${sel ? " sel" : ""}${mine ? " mine" : ""}`,
          dataset: {l, i, level: lv, n},
          title: t("plan.matrix.cellTip", {l, i, level: riskLevelLabel(lv), n}),
          onclick: () => {
            this.cell = sel ? null : [l, i];
            this.renderHeat();
            this.renderTable();
          }}, n ? el("b", {}, String(n)) : el("span", {class: "lvl"}, riskLevelLabel(lv))));
      }
    }
    grid.append(el("div", {class: "corner"}));
    for (const i of SCALE) grid.append(el("div", {class: "hi"}, el("b", {}, String(i)), el("small", {}, t(`plan.i.${i}`))));
    grid.append(el("div", {class: "hx-title"}, t("plan.matrix.impact")));
    const total = counts.flat().reduce((s, n) => s + n, 0);
    const legend = el("div", {class: "heat-legend"},
      ...riskLevels().map((lv) => el("span", {}, el("i", {class: `sw rl-${lv}`}), riskLevelLabel(lv))),
      el("span", {class: "muted heat-total"}, t(this.mode === "counts" ? "plan.matrix.total" : "plan.matrix.totalResidual", {n: total})),
      el("span", {class: "muted"}, t("plan.matrix.rules", {s: m.spread_limit, g: m.level_gap})));
    root().querySelector("#heat-view").replaceChildren(grid, legend);
  }

  renderZoneRisks() {
    const box = root().querySelector("#zone-risk .zr-list");
    const rows = (this.zoneRisks || []).filter((z) => z.level)
      .sort((a, b) => riskRank(b.level) - riskRank(a.level) || a.code.localeCompare(b.code));
    if (!rows.length) {
      box.replaceChildren(el("div", {class: "empty"}, t("plan.risk.noZoneLevels")));
      return;
    }
    box.replaceChildren(...rows.map((z) => el("div", {class: "zr"}, levelChip(z.level),
      el("span", {class: "zr-name"}, z.name), el("span", {class: "mono muted zr-code"}, z.code),
      el("span", {class: "zr-risks mono"}, z.risks.join(" ")))));
  }

  // -------------------------------------------------------------- drawer: one risk

  closeDrawers() {
    for (const d of root().querySelectorAll(".pdrawer")) d.hidden = true;
    this.openId = null;
    this.zonePick?.destroy();
    this.zonePick = null;
    for (const tr of this.table.querySelectorAll("tr.sel")) tr.classList.remove("sel");
    this.renderHeat();
  }

  openRisk(id) {
    root().querySelector("#risk-new").hidden = true;
    this.openId = id;
    this.draft = null;
    this.renderDrawer();
    root().querySelector("#risk-drawer").hidden = false;
    for (const tr of this.table.querySelectorAll("tr")) tr.classList.toggle("sel", Number(tr.dataset.id) === id);
    this.renderHeat();
  }

  renderDrawer() {
    const r = this.risks.find((x) => x.id === this.openId);
    if (!r) return;
    const d = root().querySelector("#risk-drawer");
    const a = r.aggregate;
    const edit = this.ctx.canEdit;
    this.zonePick?.destroy();
    d.className = `pdrawer lvl-${r.level || "none"}`;
    d.querySelector(".dw-title").replaceChildren(el("span", {class: "mono"}, r.code), " ", r.name);
    const body = d.querySelector(".dw-scroll");
    const scroll = body.scrollTop;
    const facts = el("dl", {class: "facts"},
      el("dt", {}, t("plan.risk.category")), el("dd", {}, vocabLabel("risk_category", r.category)),
      el("dt", {}, t("plan.risk.source")), el("dd", {}, vocabLabel("risk_source", r.source)),
      el("dt", {}, t("plan.risk.owner")), el("dd", {}, r.owner || "—"),
      el("dt", {}, t("plan.risk.assessed")), el("dd", {}, a ? [levelChip(a.level), " ",
        t("plan.risk.median", {l: a.likelihood, i: a.impact, n: a.n})] : levelChip(null)),
      el("dt", {}, t("plan.risk.residual")), el("dd", {}, r.residual_level ? [levelChip(r.residual_level), " ",
        t("plan.risk.residualLI", {l: r.residual_likelihood, i: r.residual_impact})] : t("plan.risk.noResidual")));
    const parts = [facts];
    if (a?.disagreement) parts.push(el("div", {class: "banner warn"}, el("b", {}, t("plan.risk.needConsult")), " ", a.reason));
    if (r.description) parts.push(el("p", {class: "desc pre"}, r.description));

    // scores
    parts.push(el("h3", {}, t("plan.risk.scores", {n: r.scores.length})));
    parts.push(r.scores.length ? el("table", {class: "grid scores"},
      el("thead", {}, el("tr", {}, el("th", {}, t("plan.risk.expert")), el("th", {class: "num"}, "L"), el("th", {class: "num"}, "I"),
        el("th", {}, t("plan.risk.level")), el("th", {}, t("plan.risk.note")), edit ? el("th", {}) : null)),
      el("tbody", {}, r.scores.map((s) => el("tr", {dataset: {id: s.id}},
        el("td", {title: `${dateTime(s.scored_at)} · ${s.by}`}, s.expert),
        el("td", {class: "num mono"}, String(s.likelihood)), el("td", {class: "num mono"}, String(s.impact)),
        el("td", {}, levelChip(s.level)), el("td", {class: "note"}, s.note || ""),
        edit ? el("td", {}, el("button", {type: "button", class: "btn small ghost del", title: t("plan.risk.withdraw"),
          onclick: () => this.removeScore(r, s)}, "\u00d7")) : null)))) : el("p", {class: "muted"}, t("plan.risk.noScores")));
    if (edit) parts.push(this.scoreForm(r));

    // controls, residual, zones
    parts.push(el("h3", {}, t("plan.risk.controlsTitle")));
    parts.push(this.controlsForm(r));
    if (edit) {
      parts.push(el("div", {class: "form-actions danger-zone"}, el("button", {type: "button", class: "btn small danger",
        onclick: () => this.removeRisk(r)}, t("plan.risk.delete"))));
    }
    body.replaceChildren(...parts);
    body.scrollTop = scroll;
  }

  scoreForm(r) {
    const l = selectEl(scaleOptions("l"), "", {name: "likelihood", blank: t("plan.risk.pick")});
    const i = selectEl(scaleOptions("i"), "", {name: "impact", blank: t("plan.risk.pick")});
    const preview = el("span", {class: "preview"});
    const upd = () => {
      const lv = l.value && i.value ? this.level(Number(l.value), Number(i.value)) : null;
      preview.replaceChildren(lv ? levelChip(lv) : "");
    };
    l.addEventListener("change", upd);
    i.addEventListener("change", upd);
    const form = el("form", {class: "pform score-form", novalidate: true},
      el("div", {class: "form-row"},
        field(t("plan.risk.expert"), el("input", {name: "expert", maxlength: 120, placeholder: t("plan.risk.expertHint")}), "expert"),
        field(t("plan.risk.likelihood"), l, "likelihood"),
        field(t("plan.risk.impact"), i, "impact")),
      field(t("plan.risk.note"), el("input", {name: "note", maxlength: 2000}), "note"),
      el("div", {class: "form-actions"}, el("button", {type: "submit", class: "btn primary"}, t("plan.risk.addScore")), preview,
        el("span", {class: "form-msg", role: "status"})));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const body = {expert: form.expert.value.trim(), note: form.note.value.trim()};
      if (l.value) body.likelihood = Number(l.value); // left out when not chosen: 422 "missing" next to the field
      if (i.value) body.impact = Number(i.value);
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const s = await api(this.ctx.url(`/risks/${r.id}/scores`), {method: "POST", body});
        this.ctx.toast(t("plan.risk.scored", {expert: s.expert, code: r.code}));
        await this.load();
      } catch (err) {
        showErrors(form, err);
      } finally {
        button.disabled = false;
      }
    });
    return el("div", {class: "subcard"}, el("div", {class: "subcard-title"}, t("plan.risk.scoreTitle")), form);
  }

  controlsForm(r) {
    const edit = this.ctx.canEdit;
    const draft = {controls: r.controls.map((c) => ({...c})), residual_likelihood: r.residual_likelihood,
      residual_impact: r.residual_impact, owner: r.owner};
    const form = el("form", {class: "pform", novalidate: true});
    const controls = rowsEditor({items: draft.controls, path: "controls", readOnly: !edit, addLabel: t("plan.risk.addControl"),
      empty: t("plan.risk.noControls"), make: () => ({measure: "", owner: "", done: false}),
      columns: [
        {key: "measure", label: t("plan.risk.measure"), input: (c) => boundInput(c, "measure", {readOnly: !edit, maxlength: 500})},
        {key: "owner", label: t("plan.risk.controlOwner"), cls: "w-owner", input: (c) => boundInput(c, "owner", {readOnly: !edit, maxlength: 120})},
        {key: "done", label: t("plan.risk.done"), cls: "w-done", input: (c) => boundInput(c, "done", {type: "checkbox", readOnly: !edit})},
      ]});
    const rl = selectEl(scaleOptions("l"), r.residual_likelihood, {blank: "—", disabled: !edit});
    const ri = selectEl(scaleOptions("i"), r.residual_impact, {blank: "—", disabled: !edit});
    this.zonePick = new MultiSelect({options: zoneOptions(this.ctx), value: r.zone_ids, placeholder: t("plan.risk.zonesHint"),
      disabled: !edit});
    const slot = el("div", {class: "ms-slot"}, this.zonePick.el);
    form.append(controls,
      el("div", {class: "form-row"}, field(t("plan.risk.residualL"), rl, "residual_likelihood"),
        field(t("plan.risk.residualI"), ri, "residual_impact")),
      el("div", {class: "fld", dataset: {field: "zone_ids"}}, el("span", {}, t("plan.risk.zones")), slot, el("em", {class: "fmsg"})));
    if (edit) {
      form.append(el("div", {class: "form-actions"}, el("button", {type: "submit", class: "btn primary"}, t("plan.risk.saveControls")),
        el("span", {class: "form-msg", role: "status"})));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        const body = {controls: draft.controls.map((c) => ({measure: c.measure.trim(), owner: (c.owner || "").trim(), done: Boolean(c.done)})),
          residual_likelihood: rl.value ? Number(rl.value) : null, residual_impact: ri.value ? Number(ri.value) : null,
          zone_ids: this.zonePick.value};
        try {
          await api(this.ctx.url(`/risks/${r.id}`), {method: "PATCH", body});
          this.ctx.toast(t("plan.risk.saved", {code: r.code}));
          await this.load();
        } catch (err) {
          showErrors(form, err);
        }
      });
    }
    return form;
  }

  async removeScore(r, s) {
    if (!(await confirmBox(t("plan.risk.withdrawConfirm", {expert: s.expert, code: r.code}), t("plan.risk.withdraw")))) return;
    try {
      await api(this.ctx.url(`/risks/${r.id}/scores/${s.id}`), {method: "DELETE"});
      await this.load();
    } catch (err) {
      this.ctx.toast(problemText(err), "lv-red");
    }
  }

  async removeRisk(r) {
    if (!(await confirmBox(t("plan.risk.deleteConfirm", {code: r.code, name: r.name}), t("plan.risk.delete")))) return;
    try {
      await api(this.ctx.url(`/risks/${r.id}`), {method: "DELETE"});
      this.closeDrawers();
      await this.load();
    } catch (err) {
      this.ctx.toast(problemText(err), "lv-red");
    }
  }

  // -------------------------------------------------------------- new risk

  setupNewForm() {
    const form = root().querySelector("#risk-new form");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const body = {code: form.code.value.trim(), name: form.name.value.trim(), description: form.description.value.trim(),
        owner: form.owner.value.trim(), zone_ids: this.newZones.value};
      if (form.category.value) body.category = form.category.value;
      if (form.source.value) body.source = form.source.value;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const r = await api(this.ctx.url("/risks"), {method: "POST", body});
        form.reset();
        this.newZones.value = [];
        this.ctx.toast(t("plan.risk.created", {code: r.code}));
        await this.load();
        this.openRisk(r.id);
      } catch (err) {
        showErrors(form, err);
      } finally {
        button.disabled = false;
      }
    });
  }

  fillNewFormChoices() {
    const form = root().querySelector("#risk-new form");
    const keep = {category: form.category.value, source: form.source.value};
    form.category.replaceWith(selectEl(vocabOptions("risk_category"), keep.category, {name: "category", blank: t("plan.risk.pick")}));
    form.source.replaceWith(selectEl(vocabOptions("risk_source"), keep.source, {name: "source", blank: t("plan.risk.pick")}));
    const value = this.newZones?.value || [];
    this.newZones?.destroy();
    this.newZones = new MultiSelect({options: zoneOptions(this.ctx), value, placeholder: t("plan.risk.zonesHint")});
    form.querySelector(".ms-slot").replaceChildren(this.newZones.el);
  }

  openNew() {
    this.closeDrawers();
    const d = root().querySelector("#risk-new");
    const form = d.querySelector("form");
    if (!this.newZones) this.fillNewFormChoices();
    if (!form.code.value) form.code.value = this.nextCode();
    d.hidden = false;
    form.name.focus();
  }

  nextCode() {
    const taken = new Set(this.risks.map((r) => r.code));
    for (let n = this.risks.length + 1; ; n++) {
      const code = `R-${String(n).padStart(2, "0")}`;
      if (!taken.has(code)) return code;
    }
  }

  // -------------------------------------------------------------- matrix editor

  setupEditor() {
    const form = root().querySelector("#mx-editor");
    form.querySelector(".mx-cancel").addEventListener("click", () => this.closeEditor());
    form.querySelector(".mx-reset").addEventListener("click", async () => {
      if (!(await confirmBox(t("plan.matrix.resetConfirm"), t("plan.matrix.reset")))) return;
      clearErrors(form);
      try {
        this.matrix = await api(this.ctx.url("/risk-matrix"), {method: "DELETE"});
        this.ctx.toast(t("plan.matrix.wasReset"));
        this.closeEditor();
        await this.load();
      } catch (err) {
        showErrors(form, err);
      }
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      for (const s of form.querySelectorAll(".mx-grid select.invalid")) s.classList.remove("invalid");
      const body = {rows: this.editorRows(), spread_limit: Number(form.spread_limit.value), level_gap: Number(form.level_gap.value)};
      try {
        this.matrix = await api(this.ctx.url("/risk-matrix"), {method: "PUT", body});
        this.ctx.toast(t("plan.matrix.saved"));
        this.closeEditor();
        await this.load();
      } catch (err) {
        showErrors(form, err);
        for (const e of err.errors || []) { // point at the cells the message names
          for (const m of (e.msg || "").matchAll(/likelihood (\d) x impact (\d)/g)) {
            form.querySelector(`.mx-grid select[data-l="${m[1]}"][data-i="${m[2]}"]`)?.classList.add("invalid");
          }
        }
      }
    });
  }

  editorRows() {
    const rows = SCALE.map(() => SCALE.map(() => "low"));
    for (const s of root().querySelectorAll("#mx-editor .mx-grid select")) rows[s.dataset.l - 1][s.dataset.i - 1] = s.value;
    return rows;
  }

  drawEditorGrid(rows) {
    const grid = root().querySelector("#mx-editor .mx-grid");
    const cells = [el("div", {class: "hl"}, "L \\ I")];
    for (const i of SCALE) cells.push(el("div", {class: "hi"}, el("b", {}, String(i))));
    for (const l of [5, 4, 3, 2, 1]) {
      cells.push(el("div", {class: "hl"}, el("b", {}, String(l))));
      for (const i of SCALE) {
        const s = selectEl(riskLevels().map((lv) => ({value: lv, label: riskLevelLabel(lv)})), rows[l - 1][i - 1],
          {cls: `select mx-cell rl-${rows[l - 1][i - 1]}`, "data-l": l, "data-i": i,
            "aria-label": t("plan.matrix.cellAria", {l, i})});
        s.addEventListener("change", () => {
          s.className = `select mx-cell rl-${s.value}`;
        });
        cells.push(s);
      }
    }
    grid.replaceChildren(...cells);
  }

  openEditor() {
    const form = root().querySelector("#mx-editor");
    clearErrors(form);
    this.drawEditorGrid(this.matrix.rows);
    form.spread_limit.value = this.matrix.spread_limit;
    form.level_gap.value = this.matrix.level_gap;
    form.querySelector(".mx-reset").disabled = this.matrix.default;
    form.hidden = false;
    root().querySelector("#heat-view").hidden = true;
    root().querySelector("#mx-edit").hidden = true;
  }

  closeEditor() {
    root().querySelector("#mx-editor").hidden = true;
    root().querySelector("#heat-view").hidden = false;
    root().querySelector("#mx-edit").hidden = false;
  }
}

