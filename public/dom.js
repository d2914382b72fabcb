// Small DOM and formatting helpers shared by the views. Everything that shows data from the server
// goes through textContent: paths and transcripts come from datasets and may hold markup.
export const $ = (sel, root = document) => root.querySelector(sel);

export function text(el, value) {
  el.textContent = value;
  return el;
}

/** An element with a class and text: `h('span', 'badge', 'done')`. */
export function h(tag, className, content) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (content !== undefined && content !== null) el.textContent = content;
  return el;
}

export function td(value, cls) {
  return h('td', cls, value ?? '');
}

export const fmt = (n, digits = 1) => (n === null || n === undefined ? '–' : Number(n).toFixed(digits));

export function duration(s) {
  if (s === null || s === undefined) return '–';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Shows an API error (its detail, and the issues the detail does not already name) or hides the box. */
export function showError(el, err) {
  if (!err) {
    el.hidden = true;
    return;
  }
  const detail = err.detail ?? err.message;
  const extra = (err.issues ?? []).filter((i) => !detail.includes(i.message));
  text(el, `${detail}${extra.length ? ` (${extra.map((i) => `${i.path}: ${i.message}`).join('; ')})` : ''}`);
  el.hidden = false;
}

export function badge(status) {
  return h('span', `badge ${status}`, status);
}

/** A small button; `label` becomes its accessible name when the visible text is only a glyph. */
export function button(content, className, onClick, label) {
  const b = h('button', className, content);
  b.type = 'button';
  if (label) b.setAttribute('aria-label', label);
  if (onClick) b.addEventListener('click', onClick);
  return b;
}
