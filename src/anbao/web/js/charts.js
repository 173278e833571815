// ECharts helpers in the control-room theme: the count/density trend of a zone, persons on site over
// time, and the busiest zones as bars.
/* global echarts */
import {hm, num} from "./format.js";
import {t} from "./i18n.js";
import {levelCodes, levelColour, levelLabel, levelRank} from "./vocab.js";

const AXIS = {axisLine: {lineStyle: {color: "#3a4d63"}}, axisLabel: {color: "#9fb2c6"}, splitLine: {lineStyle: {color: "#1d2b3a"}}};

export function makeChart(node) {
  const chart = echarts.init(node, null, {renderer: "canvas"});
  new ResizeObserver(() => chart.resize()).observe(node);
  return chart;
}

function thresholdLines(th, big) {
  return levelCodes().filter((lv) => th[lv] != null).map((lv) => ({
    yAxis: th[lv], lineStyle: {color: levelColour(lv), type: "dashed", width: big ? 2 : 1},
    label: {show: true, position: "insideEndTop", color: levelColour(lv), formatter: levelLabel(lv), fontSize: big ? 16 : 11},
  }));
}

/** Colour pieces by level; a level the rule leaves out (null) has no piece of its own. */
function levelPieces(thresholds) {
  const lvs = levelCodes().filter((lv) => thresholds[lv] != null);
  if (!lvs.length) return [{gte: 0, color: "#c9d6e3"}];
  const pieces = [{lt: thresholds[lvs[0]], color: "#c9d6e3"}];
  lvs.forEach((lv, i) => {
    const next = lvs[i + 1];
    pieces.push(next ? {gte: thresholds[lv], lt: thresholds[next], color: levelColour(lv)}
      : {gte: thresholds[lv], color: levelColour(lv)});
  });
  return pieces;
}

/** Two series over time: count (left axis, area) and density (right axis) with the level thresholds. */
export function zoneTrendOption({times, count, density, thresholds, big = false}) {
  const fs = big ? 16 : 11;
  const maxD = Math.max(thresholds.red ?? thresholds.orange ?? 5, ...density.filter((v) => v !== null)) * 1.08;
  return {
    animation: false,
    backgroundColor: "transparent",
    grid: {left: big ? 70 : 46, right: big ? 64 : 40, top: big ? 44 : 30, bottom: big ? 36 : 22},
    legend: {top: 0, left: "center", textStyle: {color: "#c9d6e3", fontSize: fs}, itemWidth: 14, itemHeight: 8},
    tooltip: {trigger: "axis", backgroundColor: "#0f1c2b", borderColor: "#35506b", textStyle: {color: "#e6eef6"},
      valueFormatter: (v) => (v === null || v === undefined ? "—" : num(v, 2))},
    // a narrow chart with few or no points crowded the time labels into "08:0008:0508:10": four at most, and
    // ECharts drops any that would still touch; with no reading at all the chart says so
    xAxis: {type: "time", minInterval: 60000, splitNumber: big ? 6 : 4, ...AXIS,
      axisLabel: {...AXIS.axisLabel, fontSize: fs, hideOverlap: true, formatter: (v) => hm(new Date(v))}, splitLine: {show: false}},
    graphic: count.some((v) => v !== null && v !== undefined) ? [] : [{type: "text", left: "center", top: "middle",
      style: {text: t("chart.noData"), fill: "#8ea3b8", fontSize: fs + 2}}],
    yAxis: [
      {type: "value", ...AXIS,
        axisLabel: {...AXIS.axisLabel, fontSize: fs}, min: 0},
      {type: "value", ...AXIS,
        axisLabel: {...AXIS.axisLabel, fontSize: fs}, splitLine: {show: false}, min: 0, max: Math.ceil(maxD * 2) / 2},
    ],
    // the density line takes the level colour of each stretch (grey below blue)
    visualMap: {show: false, seriesIndex: 1, dimension: 1, pieces: levelPieces(thresholds)},
    series: [
      {name: t("chart.count"), type: "line", showSymbol: false, connectNulls: false, yAxisIndex: 0,
        data: times.map((x, i) => [x, count[i]]), lineStyle: {color: "#4f6f94", width: 1},
        itemStyle: {color: "#4f6f94"}, areaStyle: {color: "rgba(79,111,148,0.35)"}},
      {name: t("chart.density"), type: "line", showSymbol: false, connectNulls: false, yAxisIndex: 1,
        data: times.map((x, i) => [x, density[i]]), lineStyle: {width: big ? 3 : 2.2},
        itemStyle: {color: "#c9d6e3"}, markLine: {symbol: "none", silent: true, data: thresholdLines(thresholds, big)}},
    ],
  };
}

/** ``fs``: the font size in px (the wall passes its rem, so the axis grows with the screen). */
export function peopleTrendOption({times, people, big = true, fs = big ? 16 : 11}) {
  return {
    animation: false,
    backgroundColor: "transparent",
    grid: {left: fs * 5.2, right: fs * 1.5, top: fs, bottom: fs * 2.1},
    tooltip: {trigger: "axis", backgroundColor: "#0f1c2b", borderColor: "#35506b", textStyle: {color: "#e6eef6", fontSize: fs},
      valueFormatter: (v) => num(v)},
    xAxis: {type: "time", minInterval: 60000, ...AXIS, axisLabel: {...AXIS.axisLabel, fontSize: fs, formatter: (v) => hm(new Date(v))}, splitLine: {show: false}},
    yAxis: {type: "value", ...AXIS, axisLabel: {...AXIS.axisLabel, fontSize: fs, formatter: (v) => num(v)}, min: 0},
    series: [{name: t("fig.people"), type: "line", showSymbol: false, data: times.map((x, i) => [x, people[i]]),
      lineStyle: {color: "#4fd1c5", width: Math.max(3, fs / 6)}, itemStyle: {color: "#4fd1c5"},
      areaStyle: {color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [
        {offset: 0, color: "rgba(79,209,197,0.35)"}, {offset: 1, color: "rgba(79,209,197,0.02)"}])}}],
  };
}

/** The busiest zones as bars, with each level's threshold as a labelled dashed line (labels alternate top and
 * bottom so that neighbouring ones do not overlap). ``big``: true, false or the font size in px. */
export function busiestOption(zones, thresholds, big = true) {
  const fs = typeof big === "number" ? big : big ? 17 : 11;
  const rows = [...zones].reverse();
  const lines = levelCodes().filter((lv) => thresholds[lv] != null);
  return {
    animation: false,
    backgroundColor: "transparent",
    grid: {left: fs / 2, right: fs * 4, top: fs * 1.6, bottom: fs * 1.6, containLabel: true},
    xAxis: {type: "value", show: false, max: Math.max(thresholds.red ?? 5, ...rows.map((z) => z.state.density)) * 1.05},
    yAxis: {type: "category", data: rows.map((z) => z.props.name), axisLine: {show: false}, axisTick: {show: false},
      axisLabel: {color: "#dbe6f1", fontSize: fs, interval: 0}},
    series: [{type: "bar", barWidth: "62%", data: rows.map((z) => ({value: z.state.density,
      itemStyle: {color: levelRank(z.state.level) ? levelColour(z.state.level) : "#5a7390", borderRadius: [0, 3, 3, 0]}})),
    label: {show: true, position: "right", color: "#e6eef6", fontSize: fs, formatter: (p) => `${num(p.value, 2)}`},
    markLine: {symbol: "none", silent: true,
      data: lines.map((lv, i) => ({xAxis: thresholds[lv], lineStyle: {color: levelColour(lv), type: "dashed", opacity: 0.8,
        width: Math.max(1, fs / 12)}, label: {show: true, position: i % 2 ? "start" : "end", distance: fs / 4,
        color: levelColour(lv), fontSize: fs * 0.9, fontWeight: "bold", formatter: `${levelLabel(lv)} ${num(thresholds[lv], 1)}`}}))}}],
  };
}
