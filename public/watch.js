// Follows one task: live through EventSource (which resumes with Last-Event-ID by itself), or by
// polling scan-status with ETag/If-None-Match when EventSource is missing or keeps failing.
import { api, eventsUrl } from './api.js';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** Errors in a row, without a message between them, before giving up on EventSource. */
const MAX_SSE_ERRORS = 3;

/**
 * Watches a task and calls onSnapshot(snapshot) for every update, onMode(mode, why) when the
 * transport changes, onEnd(snapshot) once, and onDenied(error) when the server refuses (401/403),
 * after which it stops asking. Returns a function that stops watching.
 */
export function watchTask(taskId, { onSnapshot, onMode, onEnd, onDenied = () => {} }) {
  let stopped = false;
  let source = null;
  let timer = null;
  let ended = false;

  const finish = (snap) => {
    if (ended) return;
    ended = true;
    stop();
    onEnd(snap);
  };
  const handle = (snap) => {
    if (stopped && !ended) return;
    onSnapshot(snap);
    if (TERMINAL.has(snap.status)) finish(snap);
  };

  function poll() {
    onMode('polling', typeof window.EventSource === 'function' ? 'live updates kept failing' : 'EventSource is not available');
    let etag = null;
    const tick = async () => {
      if (stopped) return;
      let delay = 1000;
      try {
        const res = await api(`/scan-status/${encodeURIComponent(taskId)}`, { headers: etag ? { 'If-None-Match': etag } : {} });
        delay = Number(res.headers.get('Retry-After') ?? 1) * 1000 || 1000;
        if (res.status !== 304) {
          etag = res.headers.get('ETag');
          handle(await res.json());
        }
      } catch (err) {
        if (err.status === 404) return finish(null);
        // Refused (a token missing or wrong): asking again with the same one cannot help.
        if (err.status === 401 || err.status === 403) return onDenied(err);
        delay = 3000;
      }
      if (!stopped) timer = setTimeout(tick, delay);
    };
    tick();
  }

  function live() {
    onMode('live', 'EventSource');
    let errors = 0;
    source = new EventSource(eventsUrl(taskId));
    const onEvent = (e) => {
      errors = 0;
      handle(JSON.parse(e.data));
    };
    for (const name of ['status', 'progress', 'completed', 'failed', 'cancelled']) source.addEventListener(name, onEvent);
    source.onerror = () => {
      if (stopped) return;
      // EventSource reconnects by itself (sending Last-Event-ID); give up only after repeated failures.
      if (++errors >= MAX_SSE_ERRORS || source.readyState === EventSource.CLOSED) {
        source.close();
        source = null;
        poll();
      }
    };
  }

  function stop() {
    stopped = true;
    source?.close();
    source = null;
    clearTimeout(timer);
  }

  if (typeof window.EventSource === 'function') live();
  else poll();
  return stop;
}
