// The messaging state every page shares: the caller's rooms with their
// unread counts, and the tab's one WebSocket to /api/v1/ws. It keeps the
// nav's unread badge and the "(N) " in document.title current on every
// page, and hands each event to whoever listens (the Messages page).
//
// Not here: drawing rooms or threads (view-messages.js). Events are applied
// idempotently: a message is known by its id, and the unread counts come
// from the server (GET /rooms/{id}, the read event), never from counting
// events here, so a replay after a reconnect changes nothing.

import { api, getToken } from './api.js';

const BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 20000, 30000];

const st = {
  running: false,
  userId: null,
  rooms: new Map(), // id -> room
  loaded: false,
  ws: null,
  connected: false,
  since: null, // the highest event id seen, as a string of digits
  attempt: 0,
  retryTimer: null,
  listeners: new Set(),
  refetch: new Map(), // room id -> { busy, again }
  titleObserver: null,
  generation: 0,
};

// ---- Listening -----------------------------------------------------------------

/**
 * fn(event) for every event: the server's (message.created, room.updated,
 * read, typing, ...) and this module's own: {type:'rooms'} when the rooms
 * or their counts changed, {type:'status', connected} when the socket opens
 * or drops. Returns the function that stops listening.
 */
export function listen(fn) {
  st.listeners.add(fn);
  return () => st.listeners.delete(fn);
}

function emit(ev) {
  for (const fn of [...st.listeners]) {
    try {
      fn(ev);
    } catch (e) {
      console.error(e);
    }
  }
}

// ---- Rooms and the unread total -----------------------------------------------------

export function rooms() {
  return [...st.rooms.values()].sort(byActivity);
}

export function room(id) {
  return st.rooms.get(id) || null;
}

export function roomsLoaded() {
  return st.loaded;
}

export function isConnected() {
  return st.connected;
}

function byActivity(a, b) {
  const ta = a.last_message_at || a.created_at || '';
  const tb = b.last_message_at || b.created_at || '';
  if (ta !== tb) return ta < tb ? 1 : -1;
  return a.title.localeCompare(b.title);
}

export function unreadTotal() {
  let n = 0;
  for (const r of st.rooms.values()) if (!r.archived) n += r.unread || 0;
  return n;
}

/** Takes a room the server sent; the fields a room event lacks are kept. */
export function putRoom(r) {
  const old = st.rooms.get(r.id);
  const merged = { ...(old || { unread: 0, my_role: 'member' }), ...r };
  st.rooms.set(r.id, merged);
  changed();
  return merged;
}

function changed() {
  showUnread();
  emit({ type: 'rooms' });
}

/** Loads the rooms again (GET /rooms); the list is the server's. */
export async function reloadRooms() {
  const gen = st.generation;
  const r = await api('/rooms');
  if (gen !== st.generation) return;
  st.rooms = new Map(r.rooms.map((x) => [x.id, x]));
  st.loaded = true;
  changed();
}

/** The server's unread count of one room, coalescing bursts of events. */
function refetchRoom(id) {
  let job = st.refetch.get(id);
  if (job) {
    job.again = true;
    return;
  }
  job = { again: false };
  st.refetch.set(id, job);
  const gen = st.generation;
  const run = async () => {
    try {
      const r = await api(`/rooms/${encodeURIComponent(id)}`);
      if (gen === st.generation) putRoom(r.room);
    } catch (e) {
      if (e.status === 404 && gen === st.generation && st.rooms.delete(id)) changed();
    }
    if (job.again && gen === st.generation) {
      job.again = false;
      run();
    } else {
      st.refetch.delete(id);
    }
  };
  run();
}

// ---- The badge and the title -------------------------------------------------------

const TITLE_PREFIX = /^\(\d+\) /;

function wantedTitle(title) {
  const bare = title.replace(TITLE_PREFIX, '');
  const n = st.running ? unreadTotal() : 0;
  return n > 0 ? `(${n}) ${bare}` : bare;
}

function fixTitle() {
  const want = wantedTitle(document.title);
  if (document.title !== want) document.title = want;
}

function showUnread() {
  const n = st.running ? unreadTotal() : 0;
  const badge = document.getElementById('nav-unread');
  if (badge) {
    badge.textContent = n > 99 ? '99+' : String(n);
    badge.hidden = n === 0;
    const link = badge.closest('a');
    if (link) link.setAttribute('aria-label', n ? `Messages, ${n} unread` : 'Messages');
  }
  fixTitle();
}

// ---- The socket -----------------------------------------------------------------------

function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;
}

function bigger(a, b) {
  // Event ids are strings of digits: compare by length, then by text.
  if (a === null || a === undefined) return b;
  if (b === null || b === undefined) return a;
  const x = String(a), y = String(b);
  if (x.length !== y.length) return x.length > y.length ? x : y;
  return x > y ? x : y;
}

function connect() {
  if (!st.running || st.ws) return;
  const token = getToken();
  if (!token) return;
  const gen = st.generation;
  let ws;
  try {
    ws = new WebSocket(wsUrl());
  } catch {
    retry();
    return;
  }
  st.ws = ws;
  let welcomed = false;
  ws.onopen = () => {
    const hello = { type: 'hello', token };
    if (st.since !== null) hello.since = st.since;
    ws.send(JSON.stringify(hello));
  };
  ws.onmessage = (m) => {
    if (gen !== st.generation) return;
    let ev;
    try {
      ev = JSON.parse(m.data);
    } catch {
      return;
    }
    if (!ev || typeof ev !== 'object') return;
    if (ev.type === 'welcome') {
      welcomed = true;
      st.attempt = 0;
      st.userId = ev.user_id;
      const first = st.since === null;
      st.since = bigger(st.since, ev.last_event_id);
      st.connected = true;
      emit({ type: 'status', connected: true });
      // The first time, the rooms are loaded after the live stream has
      // started, so nothing falls between the two.
      if (first || !st.loaded) reloadRooms().catch(() => {});
      return;
    }
    if (ev.id !== null && ev.id !== undefined) st.since = bigger(st.since, ev.id);
    apply(ev);
  };
  ws.onclose = () => {
    if (st.ws === ws) st.ws = null;
    if (gen !== st.generation) return;
    if (st.connected) {
      st.connected = false;
      emit({ type: 'status', connected: false });
    }
    if (!welcomed) st.attempt += 1;
    retry();
  };
  ws.onerror = () => {
    // onclose follows and retries.
  };
}

function retry() {
  if (!st.running || st.retryTimer) return;
  const base = BACKOFF_MS[Math.min(st.attempt, BACKOFF_MS.length - 1)];
  const delay = base / 2 + Math.random() * base / 2;
  st.retryTimer = setTimeout(() => {
    st.retryTimer = null;
    connect();
  }, delay);
}

/** Reconnects now (the browser came back online, the tab came back). */
function nudge() {
  if (!st.running || st.ws) return;
  clearTimeout(st.retryTimer);
  st.retryTimer = null;
  st.attempt = 0;
  connect();
}

function apply(ev) {
  switch (ev.type) {
    case 'message.created':
    case 'message.edited':
    case 'message.deleted': {
      const r = st.rooms.get(ev.room_id);
      if (r && ev.message && ev.type === 'message.created'
        && (!r.last_message_at || r.last_message_at < ev.message.created_at)) {
        r.last_message_at = ev.message.created_at;
      }
      if (!r || (ev.message && ev.message.author && ev.message.author.id !== st.userId)) refetchRoom(ev.room_id);
      else changed();
      break;
    }
    case 'room.updated':
      if (ev.removed) {
        if (st.rooms.delete(ev.room_id)) changed();
      } else if (ev.room) {
        if (st.rooms.has(ev.room_id)) putRoom(ev.room);
        else refetchRoom(ev.room_id); // new to us: the count and our role come with GET
      }
      break;
    case 'read': {
      const r = st.rooms.get(ev.room_id);
      if (r && typeof ev.unread === 'number') {
        r.unread = ev.unread;
        changed();
      }
      break;
    }
    default:
      break;
  }
  emit(ev);
}

/** Sends a request on the socket (typing); false when it is not open. */
export function send(obj) {
  if (!st.ws || !st.connected || st.ws.readyState !== WebSocket.OPEN) return false;
  st.ws.send(JSON.stringify(obj));
  return true;
}

export function userId() {
  return st.userId;
}

// ---- Start and stop ------------------------------------------------------------------

const onOnline = () => nudge();
const onVisible = () => {
  if (!document.hidden) nudge();
};

/** Starts the tab's messaging for the signed-in person (idempotent). */
export function start(user) {
  if (st.running && st.userId === user.id) return;
  stop();
  st.running = true;
  st.userId = user.id;
  st.generation += 1;
  window.addEventListener('online', onOnline);
  document.addEventListener('visibilitychange', onVisible);
  const title = document.querySelector('title');
  if (title && !st.titleObserver) {
    st.titleObserver = new MutationObserver(fixTitle);
    st.titleObserver.observe(title, { childList: true, characterData: true, subtree: true });
  }
  // The list now, for the badge; again once the live stream has started.
  reloadRooms().catch(() => {});
  connect();
  showUnread();
}

/** Signs the tab's messaging out: closes the socket and forgets the rooms. */
export function stop() {
  st.generation += 1;
  st.running = false;
  clearTimeout(st.retryTimer);
  st.retryTimer = null;
  if (st.ws) {
    try {
      st.ws.close(1000);
    } catch {
      // Closing anyway.
    }
    st.ws = null;
  }
  st.connected = false;
  st.since = null;
  st.attempt = 0;
  st.rooms = new Map();
  st.loaded = false;
  st.refetch.clear();
  window.removeEventListener('online', onOnline);
  document.removeEventListener('visibilitychange', onVisible);
  if (st.titleObserver) {
    st.titleObserver.disconnect();
    st.titleObserver = null;
  }
  showUnread();
}
