// The API client: JSON over fetch with the bearer token, errors as ApiError,
// and images or downloads as blobs (an <img> cannot send Authorization).
//
// The token lives in sessionStorage: it dies with the tab, so a shared
// computer does not stay signed in, and it is never sent by the browser on
// its own (no cookie, so no CSRF). See docs/HACKING.md.

const TOKEN_KEY = 'stint.token';
const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

let unauthenticatedHandler = null;

export function onUnauthenticated(fn) {
  unauthenticatedHandler = fn;
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage turned off: the session lasts as long as the page.
  }
}

function url(path) {
  return path.startsWith('/api/') ? path : BASE + path;
}

async function send(path, { method = 'GET', body, auth = true } = {}) {
  const headers = {};
  const token = getToken();
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url(path), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (res.ok) return res;
  let code = '', message = '';
  try {
    const j = await res.json();
    code = j?.error?.code || '';
    message = j?.error?.message || '';
  } catch {
    // Not JSON: keep the status only.
  }
  if (res.status === 401 && auth && token && unauthenticatedHandler) unauthenticatedHandler();
  throw new ApiError(res.status, code, message);
}

/** A JSON request; resolves to the parsed body (null for 204). */
export async function api(path, opts = {}) {
  const res = await send(path, opts);
  if (res.status === 204) return null;
  return res.json();
}

/** A GET of bytes (screenshots, PDF and CSV files). */
export async function apiBlob(path) {
  const res = await send(path);
  return res.blob();
}

/** Downloads a file that needs the token: fetch, then save through a blob URL. */
export async function download(path, filename) {
  const blob = await apiBlob(path);
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}

/**
 * Uploads a file for a message: POST /files with the File itself as the body
 * (the browser streams it from disk) and its name percent-encoded in
 * X-Filename. XMLHttpRequest rather than fetch, for the upload's progress:
 * onProgress(sent, total). onStart(xhr) gets the request, to abort it.
 * Resolves to the server's file.
 */
export function uploadFile(file, { onProgress, onStart } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url('/files'));
    const token = getToken();
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('X-Filename', encodeURIComponent(file.name || 'file'));
    if (onProgress) xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
    xhr.onload = () => {
      let j = null;
      try {
        j = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: keep the status only.
      }
      if (xhr.status === 201 || xhr.status === 200) {
        if (j && j.file) resolve(j.file);
        else reject(new ApiError(xhr.status, '', 'the server answered without the file'));
        return;
      }
      if (xhr.status === 401 && token && unauthenticatedHandler) unauthenticatedHandler();
      reject(new ApiError(xhr.status, j?.error?.code, j?.error?.message));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.'));
    if (onStart) onStart(xhr);
    xhr.send(file);
  });
}

/**
 * What to tell a person about a failed request. `doing` names the action
 * ("delete these segments") for messages that need it.
 */
export function explain(err, doing = 'do that') {
  if (!(err instanceof ApiError)) return `Something went wrong: ${err?.message || err}`;
  switch (err.code) {
    case 'locked':
      return `This week is locked, so you can no longer ${doing}. A week locks on the Monday after it at 12:00 UTC; from then on its time, memos and tags are final.`;
    case 'network':
      return err.message;
    case 'not_found':
      return 'That no longer exists, or you are not a party to it.';
    case 'forbidden':
      return `You are not allowed to ${doing}${err.message ? ` (${err.message})` : ''}.`;
    case 'conflict':
      return `The server refused to ${doing}: ${err.message}.`;
    case 'rate_limited':
      return 'Too many attempts. Wait a few minutes and try again.';
    case 'too_large':
      return `That is too large to ${doing}${err.message ? ` (${err.message})` : ''}.`;
    case 'unavailable':
      return 'The server is out of disk space; nothing was saved. Try again later.';
    case 'invalid_argument':
      return `The server refused to ${doing}: ${err.message}.`;
    default:
      return `The server could not ${doing} (${err.status}${err.message ? `: ${err.message}` : ''}).`;
  }
}
