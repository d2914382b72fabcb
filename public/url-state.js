// The app's address: which view is shown, and the results' filters, sort and page. It all lives in
// the fragment (`#/scan/<task>?q=…`), so a reloaded or shared URL shows the same view: the server
// serves the page at `/` only and never sees the fragment, so no server route is needed per view.
//
//   #/                               the scan form and the list of scans
//   #/scan/<task_id>?<params>        one scan: live progress, results (filtered, sorted, paged), speakers
//   #/scan/<task_id>/speaker/<id>    one speaker with its reference clips

/** Result filters the page has inputs for, in the order they are written into URLs. */
export const FILTERS = ['q', 'speaker_id', 'subset', 'chapter_id', 'min_duration', 'max_duration', 'min_snr_db', 'max_peak_dbfs', 'clipped', 'only'];
/** How the results are shown: sort, page size and the page's cursor. */
const VIEW_KEYS = ['sort', 'limit', 'cursor', 'page'];

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a malformed escape: keep it as typed, the API answers 404 for it
  }
}

/** { view: 'home' | 'scan' | 'speaker', taskId, speakerId, params: URLSearchParams } of a fragment. */
export function parseRoute(hash = location.hash) {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map(decode);
  if (parts[0] === 'scan' && parts[1]) {
    if (parts[2] === 'speaker' && parts[3]) return { view: 'speaker', taskId: parts[1], speakerId: parts[3], params };
    return { view: 'scan', taskId: parts[1], params: canonical(params) };
  }
  return { view: 'home', params };
}

/** Only the keys the page knows, in a fixed order, without empty values: one URL per view. */
function canonical(params) {
  const out = new URLSearchParams();
  for (const key of [...FILTERS, ...VIEW_KEYS]) {
    const v = params.get(key);
    if (v !== null && v.trim() !== '') out.set(key, v.trim());
  }
  return out;
}

export function scanHref(taskId, params = new URLSearchParams()) {
  const query = canonical(params).toString();
  return `#/scan/${encodeURIComponent(taskId)}${query ? `?${query}` : ''}`;
}

export const speakerHref = (taskId, speakerId) => `#/scan/${encodeURIComponent(taskId)}/speaker/${encodeURIComponent(speakerId)}`;

const listeners = [];
let routed = null;

function notify(force = false) {
  if (!force && location.hash === routed) return; // popstate and hashchange both fire for one change
  routed = location.hash;
  const route = parseRoute();
  for (const fn of listeners) fn(route);
}

/** Calls fn(route) now and on every change of the address (links, back and forward, go()). */
export function onRoute(fn) {
  listeners.push(fn);
  if (listeners.length === 1) {
    window.addEventListener('popstate', () => notify());
    window.addEventListener('hashchange', () => notify());
  }
  notify(true);
}

/** Shows another view: a new history entry (so Back returns), or the same one with `replace`. */
export function go(href, { replace = false } = {}) {
  if (href === location.hash) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', href);
  notify();
}

/** Shows the current view again, e.g. after the token changed. */
export const reroute = () => notify(true);
