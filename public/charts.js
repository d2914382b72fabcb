// Two small SVG bar charts, drawn with the DOM: no library needed for bars and labels.
const SVG = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The smallest of 1, 2, 5 × 10^k at or above x: a round top for the axis. */
function niceCeil(x) {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= x);
}

/**
 * Draws vertical bars. `bars` is [{ label, value, title }]; labels are shown every `labelEvery` bars.
 */
export function barChart(container, bars, { width = 560, height = 220, labelEvery = 1, yLabel = '', ariaLabel = '' } = {}) {
  container.replaceChildren();
  const pad = { top: 12, right: 8, bottom: 42, left: 44 };
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': ariaLabel });
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = niceCeil(Math.max(0, ...bars.map((b) => b.value)));
  const step = plotW / Math.max(1, bars.length);
  svg.append(el('line', { class: 'axis', x1: pad.left, y1: pad.top + plotH, x2: width - pad.right, y2: pad.top + plotH }));
  svg.append(el('line', { class: 'axis', x1: pad.left, y1: pad.top, x2: pad.left, y2: pad.top + plotH }));
  for (const frac of [0, 0.5, 1]) {
    const y = pad.top + plotH * (1 - frac);
    const v = max * frac;
    svg.append(el('text', { x: pad.left - 4, y: y + 3, 'text-anchor': 'end' }, v >= 10 ? Math.round(v) : v.toFixed(1)));
  }
  if (yLabel) svg.append(el('text', { x: 4, y: pad.top - 2 }, yLabel));
  bars.forEach((b, i) => {
    const h = (b.value / max) * plotH;
    const x = pad.left + i * step + step * 0.1;
    const rect = el('rect', { class: 'bar', x, y: pad.top + plotH - h, width: Math.max(1, step * 0.8), height: Math.max(0, h) });
    rect.append(el('title', {}, b.title ?? `${b.label}: ${b.value}`));
    svg.append(rect);
    if (i % labelEvery === 0) {
      const lx = pad.left + i * step + step / 2;
      const ly = pad.top + plotH + 12;
      svg.append(el('text', { x: lx, y: ly, 'text-anchor': 'end', transform: `rotate(-45 ${lx} ${ly})` }, b.label));
    }
  });
  container.append(svg);
  return svg;
}
