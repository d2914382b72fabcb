// The API client: the base path, the optional bearer token (kept in sessionStorage), JSON errors.
export const BASE = '/api/voice-library';
const TOKEN_KEY = 'voice-library.token';

export const getToken = () => sessionStorage.getItem(TOKEN_KEY) ?? '';
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An API error carrying the contract's `code` and `detail`. */
export class ApiError extends Error {
  constructor(status, code, detail, issues = []) {
    super(detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.issues = issues;
  }
}

export function authHeaders(extra = {}) {
  const token = getToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** fetch() against the API; throws ApiError with the server's detail on a non-2xx answer. */
export async function api(path, { method = 'GET', body, headers = {}, signal } = {}) {
  const init = { method, headers: authHeaders(headers), signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${BASE}${path}`, init);
  if (res.ok || res.status === 304) return res;
  let err = { detail: `${res.status} ${res.statusText}`, code: 'HTTP_ERROR', issues: [] };
  try {
    err = await res.json();
  } catch {
    // not JSON: keep the status line
  }
  throw new ApiError(res.status, err.code, err.detail, err.issues ?? []);
}

export const apiJson = async (path, opts) => (await api(path, opts)).json();

/** The events URL; EventSource cannot set headers, so a token travels as `access_token`. */
export function eventsUrl(taskId) {
  const token = getToken();
  return `${BASE}/scan-events/${encodeURIComponent(taskId)}${token ? `?access_token=${encodeURIComponent(token)}` : ''}`;
}

/** The URL of one scanned file's audio; the same as a reference clip's `audio_url`. */
export const audioUrl = (taskId, path) => `${BASE}/scan-audio/${encodeURIComponent(taskId)}?path=${encodeURIComponent(path)}`;

/**
 * An audio URL made playable: `as=pcm16` has the server convert RIFX, float, 24-bit and other
 * encodings to 16-bit PCM, which every browser plays. An <audio> element cannot send headers,
 * so for it (`withToken`) the token travels as `access_token`; fetch() sends the header instead.
 */
export function mediaUrl(url, { pcm16 = true, withToken = true } = {}) {
  const u = new URL(url, location.origin);
  if (pcm16) u.searchParams.set('as', 'pcm16');
  const token = getToken();
  if (withToken && token) u.searchParams.set('access_token', token);
  return `${u.pathname}${u.search}`;
}

/** The file name of a Content-Disposition header (`filename*=UTF-8''…` first, then `filename=`), or null. */
export function dispositionFilename(header) {
  if (!header) return null;
  const star = /filename\*\s*=\s*[\w-]*'[\w-]*'([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // a malformed escape: fall back to the plain filename
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  if (quoted) return quoted[1].replace(/\\(.)/g, '$1');
  const bare = /filename\s*=\s*([^;\s]+)/i.exec(header);
  return bare ? bare[1] : null;
}

/**
 * Starts an API download as a file that the browser streams to disk itself, so that nothing of it
 * is held in the page whatever its size (a 375k-row manifest is over 100 MB). The request is
 * checked first with HEAD, with the bearer header: the download routes answer it after checking
 * the task, the filters and the token, without reading a row, so that a refusal shows the API's
 * detail here (throws ApiError; the detail comes from a GET, as a HEAD answer has no body). A
 * GET checked that way made the server build a tar or sort every row before its first byte, and
 * then the link did it all again. The link carries `access_token` when a token is set (a link
 * cannot send headers; the download routes take it). Resolves to the file name from the
 * server's Content-Disposition once the browser has been handed the download; a failure after
 * that shows in the browser's downloads.
 */
export async function saveDownload(path, fallbackName) {
  let res = await fetch(`${BASE}${path}`, { method: 'HEAD', headers: authHeaders() });
  if (!res.ok) {
    // A refusal: ask again with GET for its detail (throws), dropping the body if it was none.
    const stop = new AbortController();
    res = await api(path, { signal: stop.signal });
    stop.abort();
  }
  const name = dispositionFilename(res.headers.get('Content-Disposition')) ?? fallbackName;
  const url = new URL(`${BASE}${path}`, location.href);
  const token = getToken();
  if (token) url.searchParams.set('access_token', token);
  const a = Object.assign(document.createElement('a'), { href: url.href, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  return name;
}
