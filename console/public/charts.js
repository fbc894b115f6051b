// Charts as inline SVG built with DOM calls (no library, no innerHTML): bars
// with a y axis, ticks, gridlines, axis titles with units, and labels that are
// measured against the space they get instead of being clipped. Each chart is
// drawn at the width of its box, so text stays at its real size on a phone.

const NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}
/** About how wide a label is at 12 px in a system sans-serif. */
const textWidth = (text, size = 12) => String(text).length * size * 0.58;

/** 0 and round steps up to at least `max` (1, 2, 5 × 10^n), at most about 5 ticks. */
export function niceTicks(max) {
  if (max <= 0) return [0, 1];
  const rough = max / 4;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= rough) ?? 10 * mag;
  const integral = Math.max(1, step);
  const ticks = [];
  for (let v = 0; v < max + integral; v += integral) ticks.push(v);
  return ticks;
}

/** Vertical bars over a category axis: y axis with ticks and its title, x labels thinned when they would collide. */
export function barsVertical(data, { width = 480, height = 250, label, value, valueText, tooltip, title, xTitle, yTitle, color = '#0f766e' }) {
  const values = data.map(value);
  const ticks = niceTicks(Math.max(...values, 0));
  const top = ticks.at(-1);
  const yLabelW = Math.max(...ticks.map((v) => textWidth(v)));
  const m = { left: 22 + yLabelW, right: 10, top: 18, bottom: 48 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': title, class: 'chart-svg' });
  root.append(svg('title', {}, title));
  const y = (v) => m.top + plotH - (plotH * v) / top;
  for (const v of ticks) {
    root.append(svg('line', { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v), class: v === 0 ? 'axis' : 'grid' }));
    root.append(svg('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, String(v)));
  }
  root.append(svg('line', { x1: m.left, x2: m.left, y1: m.top, y2: m.top + plotH, class: 'axis' }));
  const bw = data.length ? plotW / data.length : 0;
  // Show every n-th label so that neighbours never overlap.
  const widest = Math.max(0, ...data.map((d) => textWidth(label(d), 11)));
  const every = Math.max(1, Math.ceil((widest + 6) / Math.max(bw, 1)));
  data.forEach((d, i) => {
    const v = value(d);
    const x = m.left + i * bw;
    const h = (plotH * v) / top;
    const bar = svg('rect', { x: x + bw * 0.15, y: m.top + plotH - h, width: Math.max(2, bw * 0.7), height: Math.max(h, v > 0 ? 1 : 0), fill: color, rx: 2, class: 'bar' });
    bar.append(svg('title', {}, tooltip ? tooltip(d) : `${label(d)}: ${valueText(d)}`));
    root.append(bar);
    if (i % every === 0) root.append(svg('text', { x: x + bw / 2, y: m.top + plotH + 15, 'text-anchor': 'middle', class: 'tick x' }, label(d)));
    if (v > 0 && textWidth(valueText(d), 11) <= bw + 8) root.append(svg('text', { x: x + bw / 2, y: m.top + plotH - h - 4, 'text-anchor': 'middle', class: 'value' }, valueText(d)));
  });
  if (xTitle) root.append(svg('text', { x: m.left + plotW / 2, y: height - 8, 'text-anchor': 'middle', class: 'axis-title' }, xTitle));
  if (yTitle) root.append(svg('text', { x: 12, y: m.top + plotH / 2, 'text-anchor': 'middle', class: 'axis-title', transform: `rotate(-90 12 ${m.top + plotH / 2})` }, yTitle));
  return root;
}

/** One row per category: its label on a line of its own (never cut), the bar under it, the value after the bar. */
export function barsHorizontal(data, { width = 480, label, value, valueText, title, empty = '—', color = '#0f766e' }) {
  const rowH = 40;
  const height = Math.max(60, data.length * rowH + 10);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': title, class: 'chart-svg' });
  root.append(svg('title', {}, title));
  if (data.length === 0) {
    root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'tick' }, empty));
    return root;
  }
  const top = Math.max(...data.map(value), 1);
  const valueRoom = Math.max(...data.map((d) => textWidth(valueText(d), 11))) + 12;
  const barMax = Math.max(40, width - valueRoom - 2);
  const maxChars = Math.floor(width / (12 * 0.58));
  data.forEach((d, i) => {
    const y0 = 6 + i * rowH;
    const full = label(d);
    const shown = full.length > maxChars ? `${full.slice(0, maxChars - 1)}…` : full;
    // A cut label keeps its full text as the group's tooltip.
    const group = svg('g', {});
    if (shown !== full) group.append(svg('title', {}, full));
    group.append(svg('text', { x: 0, y: y0 + 12, class: 'label' }, shown));
    root.append(group);
    const w = Math.max(value(d) > 0 ? 3 : 0, (barMax * value(d)) / top);
    const bar = svg('rect', { x: 0, y: y0 + 18, width: w, height: 14, rx: 3, fill: color, class: 'bar' });
    bar.append(svg('title', {}, `${full}: ${valueText(d)}`));
    root.append(bar);
    root.append(svg('text', { x: w + 6, y: y0 + 29, class: 'value' }, valueText(d)));
  });
  return root;
}

/** One horizontal gauge per mandate: used / cap over its rolling window. */
export function gauges(rows, { width = 400, title, label, figure }) {
  const rowH = 52;
  const height = Math.max(rows.length * rowH + 8, 60);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': title, class: 'chart-svg gauges' });
  root.append(svg('title', {}, title));
  rows.forEach((m, i) => {
    const y0 = 6 + i * rowH;
    const share = m.window_cap_cents ? Math.min(1, m.window_used_cents / m.window_cap_cents) : 0;
    const pct = Math.round(share * 100);
    root.append(svg('text', { x: 0, y: y0 + 12, class: 'label' }, label(m)));
    root.append(svg('text', { x: 0, y: y0 + 44, class: 'figure' }, figure(m, pct)));
    root.append(svg('rect', { x: 0, y: y0 + 18, width, height: 12, rx: 6, class: 'track' }));
    root.append(svg('rect', { x: 0, y: y0 + 18, width: Math.max(share > 0 ? 6 : 0, width * share), height: 12, rx: 6, fill: share > 0.8 ? '#b54708' : '#0f766e', class: 'used' }));
  });
  return root;
}
