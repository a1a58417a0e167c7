// The Messages page: the caller's rooms on the left (unread counts, the
// archived ones folded away, "New group", and a search over all of them),
// one room's thread on the right (older pages on demand, replies, edits,
// deletions, files and image thumbnails, the room's Files list) and the
// composer (Enter sends, attachments by button, drop or paste, uploaded with
// progress; typing notices). Live changes come from messages-live.js, the
// tab's one WebSocket; this file only draws them.
//
// Text people write is only ever set as text: links are found in it and made
// into <a> elements through the DOM, never through HTML.

import { api, apiBlob, download, uploadFile, explain } from './api.js';
import { h, clear, toast, modal, confirmDialog, formDialog, field } from './dom.js';
import { fmtTime, fmtDate, dateInZone, addDays } from './time.js';
import * as live from './messages-live.js';
import { callButton } from './call-ui.js';

const MAX_TEXT = 10000;
const MAX_FILES = 10;
const PAGE = 50;
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 6000;
const SEARCH_DELAY_MS = 250;
const SEARCH_LIMIT = 50;
const MAX_QUERY = 200;

const drafts = new Map(); // room id -> text not sent yet, kept while the tab lives
// The search box and its results outlive the page (opening a result renders the page anew).
const search = { q: '', results: null, error: null, seq: 0 };
// A message to bring into view once its room has opened (a search result, a file's message).
let focusOnOpen = null;

export async function render(main, params, ctx) {
  document.title = 'Messages · stint';
  const v = {
    ctx, main, roomId: params.room || null, zone: ctx.browserZone(), me: ctx.user.id,
    destroyed: false, els: {}, msgs: new Map(), order: [], nextBefore: null, loaded: false,
    nodes: new Map(), days: new Map(), thumbs: new Map(), stick: true, replyTo: null,
    editing: null, uploads: [], typers: new Map(), typingTimer: null, lastTypingSent: 0,
    readBusy: false, readAgain: false, readDone: null, readRetried: null, unseenBelow: 0,
  };
  build(v);
  const stopListening = live.listen((ev) => onEvent(v, ev));

  const onFocus = () => maybeMarkRead(v);
  window.addEventListener('focus', onFocus);
  document.addEventListener('visibilitychange', onFocus);

  if (!live.roomsLoaded()) {
    try {
      await live.reloadRooms();
    } catch (e) {
      if (!v.destroyed) v.els.roomList.replaceChildren(h('li.notice.notice-error', { role: 'alert' }, explain(e, 'load your conversations')));
    }
  }
  if (!v.destroyed) {
    renderRooms(v);
    if (v.roomId) await openRoom(v);
  }

  return () => {
    v.destroyed = true;
    stopListening();
    window.removeEventListener('focus', onFocus);
    document.removeEventListener('visibilitychange', onFocus);
    clearTimeout(v.typingTimer);
    clearTimeout(v.searchTimer);
    for (const up of v.uploads) if (up.xhr && up.state === 'uploading') up.xhr.abort();
    for (const u of v.thumbs.values()) if (typeof u === 'string') URL.revokeObjectURL(u);
    if (v.roomId && v.els.input) drafts.set(v.roomId, v.els.input.value);
  };
}

// ---- The frame ---------------------------------------------------------------------

function build(v) {
  const els = v.els;
  els.roomList = h('ul.room-list', { 'aria-busy': live.roomsLoaded() ? null : 'true' },
    h('li.room-list-note.muted', 'Loading conversations…'));
  els.archivedList = h('ul.room-list');
  els.archivedCount = h('span');
  els.archived = h('details.rooms-archived', { hidden: true },
    h('summary', 'Archived ', els.archivedCount), els.archivedList);
  els.status = h('p.msg-status', { role: 'status' });
  els.roomNav = h('nav.room-nav', { 'aria-label': 'Conversations' }, els.roomList, els.archived);
  const rooms = h('aside.msg-rooms', { 'aria-label': 'Conversations' },
    h('div.msg-rooms-head',
      h('h1', 'Messages'),
      h('button.btn.btn-small', { type: 'button', onclick: () => newGroup(v) }, 'New group')),
    buildSearch(v),
    els.status,
    els.roomNav,
    els.searchPane);

  els.thread = h('section.msg-thread', { 'aria-label': 'Conversation' });
  if (!v.roomId) {
    els.thread.append(h('div.thread-empty',
      h('h2', 'Pick a conversation'),
      h('p.muted', 'Every contract has a room for its client and freelancer. Start a group to talk with several people you work with.')));
  }
  v.main.append(h('div.page.page-wide.msg-page',
    h('div.msg-layout', { class: v.roomId ? 'has-thread' : '' }, rooms, els.thread)));
  showStatus(v);
  renderSearch(v);
}

function showStatus(v) {
  const el = v.els.status;
  if (!el) return;
  const bad = live.roomsLoaded() && !live.isConnected();
  el.hidden = !bad;
  el.textContent = bad ? 'Reconnecting… new messages will appear once the connection is back.' : '';
}

// ---- The rooms --------------------------------------------------------------------

function roomSubtitle(v, r) {
  const others = (r.members || []).filter((m) => m.user_id !== v.me).map((m) => m.name);
  if (r.kind === 'contract') return others.length ? `Contract · ${others.join(', ')}` : 'Contract';
  const n = (r.members || []).length;
  return `Group · ${n} ${n === 1 ? 'member' : 'members'}`;
}

function whenShort(v, iso) {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const day = dateInZone(ms, v.zone);
  const today = dateInZone(Date.now(), v.zone);
  if (day === today) return fmtTime(ms, v.zone);
  if (day === addDays(today, -1)) return 'Yesterday';
  return fmtDate(day, 'short');
}

function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const first = parts[0] ? [...parts[0]][0] : '?';
  const last = parts.length > 1 ? [...parts[parts.length - 1]][0] : '';
  return (first + last).toUpperCase();
}

function hue(id) {
  let x = 0;
  for (const c of String(id)) x = (x * 31 + c.codePointAt(0)) >>> 0;
  return x % 8;
}

function avatar(id, name, cls = '') {
  return h('span.avatar', { class: `avatar-${hue(id)} ${cls}`, 'aria-hidden': 'true' }, initials(name));
}

function roomItem(v, r) {
  const unread = r.unread || 0;
  const current = r.id === v.roomId;
  return h('li',
    h('a.room-item', {
      href: `#/messages/${encodeURIComponent(r.id)}`,
      class: unread && !current ? 'room-unread' : '',
      'aria-current': current ? 'page' : null,
      dataset: { room: r.id },
    },
    avatar(r.id, r.title, r.kind === 'group' ? 'avatar-group' : ''),
    h('span.room-main',
      h('span.room-title', r.title),
      h('span.room-sub', roomSubtitle(v, r))),
    h('span.room-meta',
      h('span.room-time', whenShort(v, r.last_message_at)),
      unread ? h('span.unread-badge', { 'aria-label': `${unread} unread` }, unread > 99 ? '99+' : String(unread)) : null)));
}

function renderRooms(v) {
  if (v.destroyed) return;
  const { els } = v;
  if (!live.roomsLoaded()) return;
  els.roomList.removeAttribute('aria-busy');
  const all = live.rooms();
  const active = all.filter((r) => !r.archived);
  const archived = all.filter((r) => r.archived);
  els.roomList.replaceChildren(...active.map((r) => roomItem(v, r)));
  if (!active.length) {
    els.roomList.append(h('li.room-list-note.muted', archived.length
      ? 'No open conversations.'
      : 'No conversations yet. A room opens with each contract.'));
  }
  els.archived.hidden = !archived.length;
  els.archivedCount.textContent = `(${archived.length})`;
  els.archivedList.replaceChildren(...archived.map((r) => roomItem(v, r)));
  if (archived.some((r) => r.id === v.roomId)) els.archived.open = true;
}

async function newGroup(v) {
  let people;
  try {
    const { contracts } = await api('/contracts');
    const seen = new Map();
    for (const c of contracts) {
      for (const p of [c.client, c.freelancer]) {
        if (p && p.id !== v.me && !seen.has(p.id)) seen.set(p.id, p.name);
      }
    }
    people = [...seen.entries()].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (e) {
    toast(explain(e, 'load the people you work with'), 'error');
    return;
  }
  const room = await formDialog({
    title: 'New group',
    intro: people.length ? null : 'You can add the people you share a contract with. You have no contracts yet, so the group starts with you alone.',
    submitLabel: 'Create group',
    fields: () => {
      const title = h('input', { type: 'text', name: 'title', maxlength: 200, required: true, autofocus: true, autocomplete: 'off' });
      const boxes = people.map((p) => h('label.check.person-check',
        h('input', { type: 'checkbox', name: 'member', value: p.id }),
        avatar(p.id, p.name, 'avatar-small'), h('span', p.name)));
      return h('div',
        field('Title', title, 'Up to 200 characters.'),
        people.length ? h('fieldset.people-pick', h('legend', 'Members'), h('div.people-list', boxes)) : null);
    },
    submit: async (form) => {
      const title = form.elements.title.value.trim();
      if (!title) throw new Error('Give the group a title.');
      const ids = [...form.querySelectorAll('input[name=member]:checked')].map((x) => x.value);
      try {
        return (await api('/rooms', { method: 'POST', body: { title, member_ids: ids } })).room;
      } catch (e) {
        throw new Error(explain(e, 'create this group'));
      }
    },
  });
  if (!room) return;
  live.putRoom(room);
  toast(`Group “${room.title}” created.`, 'success');
  v.ctx.go(`#/messages/${encodeURIComponent(room.id)}`);
}

// ---- One room ----------------------------------------------------------------------

async function openRoom(v) {
  const { els } = v;
  const enc = encodeURIComponent(v.roomId);
  els.head = h('header.thread-head');
  els.notice = h('div.notice-area', { role: 'alert' });
  els.older = h('button.btn.btn-small.load-older', { type: 'button', hidden: true, onclick: () => loadOlder(v) }, 'Load older messages');
  els.list = h('ol.msg-list', { 'aria-label': 'Messages' });
  els.scroll = h('div.thread-scroll', { tabindex: '0', role: 'log', 'aria-label': 'Messages', 'aria-busy': 'true' },
    h('div.thread-top', els.older), els.list);
  els.scroll.addEventListener('scroll', () => {
    v.stick = nearBottom(v);
    if (v.stick && v.unseenBelow) {
      v.unseenBelow = 0;
      showJump(v);
    }
  });
  els.jump = h('button.btn.btn-small.jump-new', { type: 'button', hidden: true, onclick: () => scrollToBottom(v, true) });
  els.typing = h('p.typing-line', { 'aria-live': 'polite' });
  els.composer = buildComposer(v);
  els.drop = h('div.drop-hint', { 'aria-hidden': 'true' }, h('span', 'Drop files to attach them'));
  clear(els.thread).append(els.head, els.notice, h('div.thread-body', els.scroll, els.jump, els.drop), els.typing, els.composer);
  dropTarget(v, els.thread);

  const cached = live.room(v.roomId);
  if (cached) renderHead(v, cached);
  let page;
  try {
    const [r, p] = await Promise.all([
      api(`/rooms/${enc}`),
      api(`/rooms/${enc}/messages?limit=${PAGE}`),
    ]);
    if (v.destroyed) return;
    live.putRoom(r.room);
    renderHead(v, r.room);
    page = p;
  } catch (e) {
    if (v.destroyed) return;
    clear(els.thread).append(h('div.thread-empty',
      h('h2', e.status === 404 ? 'Conversation not found' : 'This conversation could not be loaded'),
      h('p.muted', e.status === 404 ? 'It does not exist, or you are not one of its members.' : explain(e, 'load this conversation')),
      h('p', h('a.btn', { href: '#/messages' }, 'All conversations'))));
    return;
  }
  // Events may have brought newer messages while the page loaded: they stay after the page.
  const pageIds = page.messages.map((m) => m.id).reverse();
  for (const m of page.messages) merge(v, m);
  v.order = [...pageIds, ...v.order.filter((id) => !pageIds.includes(id))];
  v.nextBefore = page.next_before;
  v.loaded = true;
  els.scroll.removeAttribute('aria-busy');
  drawList(v);
  scrollToBottom(v, false);
  if (focusOnOpen && focusOnOpen.room === v.roomId) {
    const want = focusOnOpen.id;
    focusOnOpen = null;
    focusMessage(v, want, false);
  }
  const draft = drafts.get(v.roomId);
  if (draft) {
    els.input.value = draft;
    inputChanged(v, false);
  }
  if (!(live.room(v.roomId) || {}).archived) els.input.focus({ preventScroll: true });
  maybeMarkRead(v);
}

function renderHead(v, r) {
  const { els } = v;
  if (!els.head) return;
  document.title = `${r.title} · Messages · stint`;
  const canManage = r.kind === 'contract' || r.my_role === 'owner' || r.my_role === 'admin';
  const names = (r.members || []).map((m) => (m.user_id === v.me ? `${m.name} (you)` : m.name));
  const actions = [
    callButton(r.id, !!r.archived),
    h('button.btn.btn-small.files-btn', { type: 'button', onclick: () => showFiles(v, r), title: 'The files posted in this conversation' }, 'Files'),
  ];
  if (r.kind === 'group' && canManage) {
    actions.push(h('button.btn.btn-small', { type: 'button', onclick: () => rename(v, r) }, 'Rename'));
  }
  if (canManage) {
    actions.push(h('button.btn.btn-small', { type: 'button', onclick: () => setArchived(v, r, !r.archived) },
      r.archived ? 'Unarchive' : 'Archive'));
  }
  clear(els.head).append(
    h('a.thread-back', { href: '#/messages', 'aria-label': 'All conversations' }, '‹'),
    avatar(r.id, r.title, r.kind === 'group' ? 'avatar-group' : ''),
    h('div.thread-title',
      h('h2', r.title, r.archived ? h('span.badge.state-ended', 'Archived') : null),
      h('p.muted.thread-members', { title: names.join(', ') },
        `${r.kind === 'contract' ? 'Contract room' : 'Group'} · ${names.join(', ')}`)),
    h('div.thread-actions', actions));
  const archived = !!r.archived;
  els.notice.replaceChildren(...(archived
    ? [h('p.notice.notice-lock', 'This conversation is archived. Unarchive it to write here again.')]
    : []));
  setComposerEnabled(v, !archived);
}

async function rename(v, r) {
  const room = await formDialog({
    title: 'Rename group',
    submitLabel: 'Rename',
    fields: () => field('Title', h('input', { type: 'text', name: 'title', value: r.title, maxlength: 200, required: true, autocomplete: 'off' })),
    submit: async (form) => {
      const title = form.elements.title.value.trim();
      if (!title) throw new Error('Give the group a title.');
      try {
        return (await api(`/rooms/${encodeURIComponent(r.id)}`, { method: 'PATCH', body: { title } })).room;
      } catch (e) {
        throw new Error(explain(e, 'rename this group'));
      }
    },
  });
  if (room && !v.destroyed) renderHead(v, live.putRoom(room));
}

async function setArchived(v, r, archived) {
  try {
    const { room } = await api(`/rooms/${encodeURIComponent(r.id)}`, { method: 'PATCH', body: { archived } });
    const merged = live.putRoom(room);
    if (!v.destroyed && v.roomId === r.id) renderHead(v, merged);
    toast(archived ? `“${r.title}” is archived.` : `“${r.title}” is back in your conversations.`, 'success');
  } catch (e) {
    toast(explain(e, archived ? 'archive this conversation' : 'unarchive this conversation'), 'error');
  }
}

async function loadOlder(v) {
  const { els } = v;
  if (!v.nextBefore) return;
  els.older.disabled = true;
  els.older.textContent = 'Loading…';
  try {
    const p = await api(`/rooms/${encodeURIComponent(v.roomId)}/messages?before=${encodeURIComponent(v.nextBefore)}&limit=${PAGE}`);
    if (v.destroyed) return;
    const ids = p.messages.map((m) => m.id).reverse().filter((id) => !v.msgs.has(id));
    for (const m of p.messages) merge(v, m);
    v.order = [...ids, ...v.order];
    v.nextBefore = p.next_before;
    const before = els.scroll.scrollHeight - els.scroll.scrollTop;
    drawList(v);
    els.scroll.scrollTop = els.scroll.scrollHeight - before;
  } catch (e) {
    toast(explain(e, 'load older messages'), 'error');
  }
  els.older.disabled = false;
  els.older.textContent = 'Load older messages';
}

// ---- Events ------------------------------------------------------------------------

function onEvent(v, ev) {
  if (v.destroyed) return;
  switch (ev.type) {
    case 'rooms':
      renderRooms(v);
      if (search.untitled) renderSearch(v); // the rooms a result is in have come

      if (v.roomId && v.loaded) {
        const r = live.room(v.roomId);
        if (r) renderHead(v, r);
        // A count fetched before our read marker moved can arrive after it: read again.
        if (r && r.unread) maybeMarkRead(v);
      }
      break;
    case 'status':
      showStatus(v);
      break;
    case 'message.created':
    case 'message.edited':
    case 'message.deleted':
      if (ev.room_id === v.roomId && ev.message) {
        const isNew = !v.msgs.has(ev.message.id);
        upsert(v, ev.message);
        if (isNew && ev.message.author) v.typers.delete(ev.message.author.id);
        renderTyping(v);
        if (isNew) maybeMarkRead(v);
      }
      break;
    case 'room.updated':
      if (ev.room_id === v.roomId && ev.removed) {
        v.els.notice.replaceChildren(h('p.notice.notice-warn', 'You are no longer a member of this conversation.'));
        setComposerEnabled(v, false);
      }
      break;
    case 'typing':
      if (ev.room_id === v.roomId && ev.user && ev.user.id !== v.me) {
        v.typers.set(ev.user.id, { name: ev.user.name, until: Date.now() + TYPING_SHOWN_MS });
        renderTyping(v);
      }
      break;
    default:
      break;
  }
}

/** The newer of two copies of one message: a deletion wins, then the later edit. */
function newer(a, b) {
  if (!a) return b;
  if (a.deleted) return a;
  if (b.deleted) return b;
  return (a.edited_at || '') > (b.edited_at || '') ? a : b;
}

function merge(v, m) {
  v.msgs.set(m.id, newer(v.msgs.get(m.id), m));
}

function upsert(v, m) {
  if (!v.loaded) {
    // The first page is on its way; keep the event's copy and its place after the page.
    if (!v.msgs.has(m.id)) v.order.push(m.id);
    merge(v, m);
    return;
  }
  const isNew = !v.msgs.has(m.id);
  merge(v, m);
  if (isNew) v.order.push(m.id);
  const wasAtBottom = v.stick;
  drawList(v);
  if (isNew) {
    if (wasAtBottom || (m.author && m.author.id === v.me)) scrollToBottom(v, true);
    else {
      v.unseenBelow += 1;
      showJump(v);
    }
  }
}

// ---- Reading ----------------------------------------------------------------------

function lastId(v) {
  return v.order.length ? v.order[v.order.length - 1] : null;
}

/** Moves the read marker to the newest message while the thread is in view in a focused tab. */
async function maybeMarkRead(v) {
  if (v.destroyed || !v.loaded || !v.roomId) return;
  if (document.hidden || !document.hasFocus()) return;
  const id = lastId(v);
  if (!id) return;
  const r = live.room(v.roomId);
  if (!r || (v.readDone === id && !r.unread)) return;
  if (v.readDone === id) {
    // Read up to here already, yet a count says otherwise: once more, not in a loop
    // (a newer message we have not been told of yet keeps the count up).
    if (v.readRetried === id) return;
    v.readRetried = id;
  }
  if (v.readBusy) {
    v.readAgain = true;
    return;
  }
  v.readBusy = true;
  try {
    const res = await api(`/rooms/${encodeURIComponent(v.roomId)}/read`, { method: 'POST', body: { message_id: id } });
    v.readDone = id;
    if (res && res.room) live.putRoom(res.room);
  } catch {
    // The next message or focus tries again; a lost read marker costs a badge, nothing more.
  }
  v.readBusy = false;
  if (v.readAgain) {
    v.readAgain = false;
    maybeMarkRead(v);
  }
}

// ---- Drawing the thread ----------------------------------------------------------------

function nearBottom(v) {
  const s = v.els.scroll;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
}

function scrollToBottom(v, smooth) {
  const s = v.els.scroll;
  if (!s) return;
  s.scrollTo({ top: s.scrollHeight, behavior: smooth && !matchMedia('(prefers-reduced-motion: reduce)').matches ? 'smooth' : 'auto' });
  v.stick = true;
  v.unseenBelow = 0;
  showJump(v);
}

function showJump(v) {
  const b = v.els.jump;
  b.hidden = !v.unseenBelow;
  b.textContent = v.unseenBelow === 1 ? '1 new message ↓' : `${v.unseenBelow} new messages ↓`;
}

function dayLabel(v, day) {
  const today = dateInZone(Date.now(), v.zone);
  if (day === today) return 'Today';
  if (day === addDays(today, -1)) return 'Yesterday';
  return fmtDate(day, 'long');
}

/**
 * Puts the messages in order with a line at each new day. Elements of
 * messages that did not change are kept as they are (an open editor, a
 * loaded thumbnail), and nodes already in place are not moved.
 */
function drawList(v) {
  const { els } = v;
  const want = [];
  let prevDay = null, prev = null;
  for (const id of v.order) {
    const m = v.msgs.get(id);
    if (!m) continue;
    const ms = Date.parse(m.created_at);
    const day = dateInZone(ms, v.zone);
    if (day !== prevDay) {
      let d = v.days.get(day);
      if (!d) v.days.set(day, (d = h('li.msg-day', h('span', dayLabel(v, day)))));
      want.push(d);
      prev = null;
    }
    prevDay = day;
    const grouped = !!(prev && !prev.deleted && !m.deleted && prev.author.id === m.author.id && !m.reply_to
      && ms - Date.parse(prev.created_at) < 5 * 60 * 1000);
    want.push(messageNode(v, m, grouped));
    prev = m;
  }
  reconcile(els.list, want);
  els.older.hidden = !v.nextBefore;
  if (v.loaded && !v.order.length) {
    els.list.replaceChildren(h('li.msg-empty.muted', 'No messages yet. Say hello.'));
  }
}

function reconcile(parent, nodes) {
  let cur = parent.firstChild;
  for (const n of nodes) {
    if (n === cur) {
      cur = cur.nextSibling;
      continue;
    }
    parent.insertBefore(n, cur);
  }
  while (cur) {
    const next = cur.nextSibling;
    cur.remove();
    cur = next;
  }
}

function messageNode(v, m, grouped) {
  const target = m.reply_to ? v.msgs.get(m.reply_to) : null;
  const key = JSON.stringify([m, grouped, v.editing === m.id,
    target ? [target.text, target.deleted, target.author.name, target.files && target.files.length] : null]);
  const had = v.nodes.get(m.id);
  if (had && had.key === key) return had.el;
  if (had && v.editing === m.id && had.editing) return had.el; // keep what is being typed
  const el = buildMessage(v, m, grouped, target);
  v.nodes.set(m.id, { key, el, editing: v.editing === m.id });
  return el;
}

function authorName(v, a) {
  return a ? a.name : 'Someone';
}

function snippet(m) {
  if (m.deleted) return 'This message was deleted';
  const t = m.text.replace(/\s+/g, ' ').trim();
  if (t) return t.length > 140 ? `${t.slice(0, 140)}…` : t;
  if (m.files && m.files.length) return m.files.length === 1 ? m.files[0].name : `${m.files.length} files`;
  return '';
}

function buildMessage(v, m, grouped, target) {
  const ms = Date.parse(m.created_at);
  const mine = m.author && m.author.id === v.me;
  const time = h('time.msg-time', { datetime: m.created_at, title: new Date(ms).toLocaleString() }, fmtTime(ms, v.zone));
  const head = h('div.msg-head',
    h('span.msg-author', authorName(v, m.author)), time,
    m.edited_at && !m.deleted ? h('span.msg-edited', { title: `Edited ${new Date(Date.parse(m.edited_at)).toLocaleString()}` }, '(edited)') : null);
  const li = h('li.msg', { class: [mine ? 'msg-mine' : '', grouped ? 'msg-grouped' : '', m.deleted ? 'msg-deleted' : ''].filter(Boolean).join(' '), dataset: { id: m.id } });
  const side = grouped
    ? h('span.msg-side', h('time.msg-time-side', { datetime: m.created_at }, fmtTime(ms, v.zone)))
    : h('span.msg-side', avatar(m.author ? m.author.id : '?', authorName(v, m.author)));
  const body = h('div.msg-body');
  if (grouped) body.append(h('span.visually-hidden', `${authorName(v, m.author)}, ${fmtTime(ms, v.zone)}`));
  else body.append(head);
  if (m.deleted) {
    body.append(h('p.msg-text.msg-gone', 'This message was deleted'));
    li.append(side, body);
    return li;
  }
  if (m.reply_to) {
    const quote = h('button.msg-quote', {
      type: 'button',
      title: target ? 'Show the message this replies to' : 'The message this replies to is further up',
      onclick: () => showMessage(v, m.reply_to),
    },
    h('span.msg-quote-author', target ? authorName(v, target.author) : 'Reply'),
    h('span.msg-quote-text', target ? snippet(target) : 'to an earlier message'));
    body.append(quote);
  }
  if (v.editing === m.id) {
    body.append(editor(v, m));
  } else if (m.text) {
    body.append(h('div.msg-text', linkify(m.text)));
  }
  if (m.edited_at && grouped) body.append(h('span.msg-edited', '(edited)'));
  if (m.files && m.files.length) body.append(fileList(v, m.files));
  const actions = h('div.msg-actions', { role: 'group', 'aria-label': 'Message actions' },
    h('button.msg-action', { type: 'button', onclick: () => startReply(v, m) }, 'Reply'),
    mine ? h('button.msg-action', { type: 'button', onclick: () => startEdit(v, m) }, 'Edit') : null,
    mine ? h('button.msg-action.msg-action-danger', { type: 'button', onclick: () => removeMessage(v, m) }, 'Delete') : null);
  li.append(side, body, v.editing === m.id ? null : actions);
  return li;
}

function showMessage(v, id) {
  if (!focusMessage(v, id)) {
    toast(v.nextBefore ? 'That message is further up: load older messages to see it.' : 'That message is no longer here.');
  }
}

/**
 * Scrolls a loaded message into view and flashes it; false when it is not in
 * the loaded pages. A room just opened jumps there at once (smooth=false):
 * a smooth scroll would start by the end, where a thumbnail that loads
 * meanwhile pulls the view back down.
 */
function focusMessage(v, id, smooth = true) {
  const node = v.nodes.get(id);
  if (!node || !node.el.isConnected) return false;
  smooth = smooth && !matchMedia('(prefers-reduced-motion: reduce)').matches;
  v.stick = false;
  node.el.scrollIntoView({ block: 'center', behavior: smooth ? 'smooth' : 'auto' });
  node.el.classList.remove('msg-flash');
  void node.el.offsetWidth; // restart the animation
  node.el.classList.add('msg-flash');
  return true;
}

// ---- Links in text ------------------------------------------------------------------

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

function count(s, ch) {
  let n = 0;
  for (const c of s) if (c === ch) n += 1;
  return n;
}

/** The text as text nodes, with http(s) links as <a> elements. */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let u = m[0];
    // Punctuation that ends a sentence is not part of the link, nor a closing bracket without its opening one.
    for (;;) {
      const ch = u.slice(-1);
      if (/[.,;:!?*]/.test(ch)) u = u.slice(0, -1);
      else if (ch === ')' && count(u, '(') < count(u, ')')) u = u.slice(0, -1);
      else if (ch === ']' && count(u, '[') < count(u, ']')) u = u.slice(0, -1);
      else break;
    }
    let href = null;
    try {
      const p = new URL(u);
      if ((p.protocol === 'http:' || p.protocol === 'https:') && p.hostname) href = p.href;
    } catch {
      // Not a URL after all: it stays text.
    }
    if (!href) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('a.msg-link', { href, rel: 'noopener noreferrer', target: '_blank' }, u));
    last = m.index + u.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// ---- Files ------------------------------------------------------------------------------

function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0)} MB`;
  return `${(n / 1073741824).toFixed(1)} GB`;
}

function fileList(v, files) {
  return h('ul.msg-files', files.map((f) => h('li', f.thumb_url ? imageFile(v, f) : plainFile(f))));
}

function plainFile(f) {
  const ext = (/\.([A-Za-z0-9]{1,5})$/.exec(f.name) || [])[1] || 'file';
  return h('button.file-chip', {
    type: 'button',
    title: `Download ${f.name}`,
    onclick: () => saveFile(f),
  },
  h('span.file-ext', { 'aria-hidden': 'true' }, ext.toUpperCase()),
  h('span.file-info', h('span.file-name', f.name), h('span.file-size', fmtSize(f.size))));
}

async function saveFile(f) {
  try {
    await download(f.url, f.name);
  } catch (e) {
    toast(explain(e, `download “${f.name}”`), 'error');
  }
}

function imageFile(v, f) {
  const img = h('img', { alt: f.name, loading: 'lazy', decoding: 'async' });
  const btn = h('button.file-thumb.loading', { type: 'button', title: `${f.name} (${fmtSize(f.size)})`, onclick: () => viewImage(f) }, img);
  img.addEventListener('load', () => {
    btn.classList.remove('loading');
    if (v.stick) scrollToBottom(v, false);
  });
  loadThumb(v, f, img, btn);
  return h('div.file-image', btn,
    h('button.file-caption', { type: 'button', onclick: () => saveFile(f), title: `Download ${f.name}` },
      h('span.file-name', f.name), h('span.file-size', fmtSize(f.size))));
}

async function loadThumb(v, f, img, btn) {
  let u = v.thumbs.get(f.id);
  try {
    if (!u) {
      u = apiBlob(f.thumb_url).then((b) => URL.createObjectURL(b));
      v.thumbs.set(f.id, u);
    }
    const url = await u;
    if (v.destroyed) return;
    v.thumbs.set(f.id, url);
    img.src = url;
  } catch {
    v.thumbs.delete(f.id);
    btn.classList.remove('loading');
    btn.replaceChildren(h('span.file-thumb-none', 'Preview unavailable'));
  }
}

function viewImage(f) {
  let url = null;
  modal({
    title: f.name,
    className: 'image-viewer',
    build: (close) => {
      const img = h('img', { alt: f.name });
      const box = h('div.image-viewer-box.loading', img);
      apiBlob(f.url).then((b) => {
        url = URL.createObjectURL(b);
        img.src = url;
        box.classList.remove('loading');
      }).catch((e) => box.replaceChildren(h('p.notice.notice-error', explain(e, 'load this image'))));
      return h('div',
        h('div.dialog-body', box),
        h('div.dialog-actions',
          h('button.btn', { type: 'button', onclick: () => close() }, 'Close'),
          h('button.btn.btn-primary', { type: 'button', onclick: () => saveFile(f) }, `Download (${fmtSize(f.size)})`)));
    },
  }).then(() => {
    if (url) URL.revokeObjectURL(url);
  });
}

// ---- Edit, delete, reply -------------------------------------------------------------------

function startEdit(v, m) {
  v.editing = m.id;
  drawList(v);
  const node = v.nodes.get(m.id);
  const ta = node && node.el.querySelector('textarea');
  if (ta) {
    ta.focus();
    ta.setSelectionRange(ta.value.length, ta.value.length);
  }
}

function stopEdit(v) {
  v.editing = null;
  drawList(v);
}

function editor(v, m) {
  const ta = h('textarea.msg-edit', { rows: Math.min(8, m.text.split('\n').length + 1), 'aria-label': 'Edit message', maxlength: MAX_TEXT });
  ta.value = m.text;
  const err = h('p.form-error', { role: 'alert', hidden: true });
  const save = async () => {
    const text = ta.value;
    if (text === m.text) {
      stopEdit(v);
      return;
    }
    if (!text.trim() && !(m.files && m.files.length)) {
      err.textContent = 'A message needs some text. Delete it instead?';
      err.hidden = false;
      return;
    }
    saveBtn.disabled = true;
    try {
      const r = await api(`/messages/${encodeURIComponent(m.id)}`, { method: 'PATCH', body: { text } });
      if (v.destroyed) return;
      v.editing = null;
      upsert(v, r.message);
    } catch (e) {
      err.textContent = explain(e, 'save this message');
      err.hidden = false;
      saveBtn.disabled = false;
    }
  };
  ta.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      save();
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      stopEdit(v);
      v.els.input.focus();
    }
  });
  const saveBtn = h('button.btn.btn-primary.btn-small', { type: 'button', onclick: save }, 'Save');
  return h('div.msg-editor', ta, err,
    h('div.msg-editor-actions',
      h('span.muted.small', 'Enter saves, Escape cancels'),
      h('button.btn.btn-small', { type: 'button', onclick: () => stopEdit(v) }, 'Cancel'),
      saveBtn));
}

async function removeMessage(v, m) {
  const ok = await confirmDialog({
    title: 'Delete this message?',
    message: 'Everyone in the conversation will see “This message was deleted” in its place. Its files go with it.',
    confirmLabel: 'Delete message',
    danger: true,
  });
  if (!ok) return;
  try {
    await api(`/messages/${encodeURIComponent(m.id)}`, { method: 'DELETE' });
    if (!v.destroyed) upsert(v, { ...m, deleted: true, text: '', files: [] });
  } catch (e) {
    toast(explain(e, 'delete this message'), 'error');
  }
}

function startReply(v, m) {
  v.replyTo = m;
  renderReply(v);
  v.els.input.focus();
}

function renderReply(v) {
  const { els } = v;
  const m = v.replyTo;
  els.reply.hidden = !m;
  if (!m) {
    els.reply.replaceChildren();
    return;
  }
  els.reply.replaceChildren(
    h('span.reply-bar-text', h('strong', `Replying to ${authorName(v, m.author)}`), h('span.muted', snippet(m))),
    h('button.icon-btn', { type: 'button', 'aria-label': 'Cancel the reply', onclick: () => { v.replyTo = null; renderReply(v); els.input.focus(); } }, '×'));
}

// ---- The composer ------------------------------------------------------------------------

function buildComposer(v) {
  const els = v.els;
  els.input = h('textarea.composer-input', {
    rows: 1, 'aria-label': 'Message', placeholder: 'Write a message…', autocomplete: 'off',
  });
  els.fileInput = h('input.visually-hidden', { type: 'file', multiple: true, tabindex: '-1', 'aria-label': 'Attach files' });
  els.attach = h('button.btn.composer-attach', { type: 'button', title: 'Attach files (or drop them on the conversation)', onclick: () => els.fileInput.click() }, 'Attach');
  els.send = h('button.btn.btn-primary.composer-send', { type: 'submit', disabled: true }, 'Send');
  els.counter = h('span.composer-count', { 'aria-live': 'polite' });
  els.reply = h('div.reply-bar', { hidden: true });
  els.pending = h('ul.pending-files', { hidden: true, 'aria-label': 'Files to send' });
  const form = h('form.composer', { novalidate: true },
    els.reply, els.pending,
    h('div.composer-row', els.attach, els.fileInput, els.input, els.send),
    h('div.composer-foot', h('span.muted', 'Enter sends · Shift+Enter adds a line'), els.counter));

  els.fileInput.addEventListener('change', () => {
    addFiles(v, [...els.fileInput.files]);
    els.fileInput.value = '';
  });
  els.input.addEventListener('input', () => inputChanged(v, true));
  els.input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      sendMessage(v);
    } else if (ev.key === 'Escape' && v.replyTo) {
      v.replyTo = null;
      renderReply(v);
    } else if (ev.key === 'ArrowUp' && !els.input.value) {
      const mine = [...v.order].reverse().map((id) => v.msgs.get(id)).find((m) => m && !m.deleted && m.author.id === v.me);
      if (mine) {
        ev.preventDefault();
        startEdit(v, mine);
      }
    }
  });
  els.input.addEventListener('paste', (ev) => {
    const files = ev.clipboardData ? [...ev.clipboardData.files] : [];
    if (files.length) {
      ev.preventDefault();
      addFiles(v, files);
    }
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sendMessage(v);
  });
  inputChanged(v, false);
  return form;
}

function textLength(s) {
  let n = 0;
  for (const _ of s) n += 1; // characters as the server counts them, not UTF-16 units
  return n;
}

function inputChanged(v, typed) {
  const { els } = v;
  const ta = els.input;
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight + 2, 220)}px`;
  const n = textLength(ta.value);
  els.counter.textContent = n > MAX_TEXT * 0.8 ? `${n.toLocaleString('en-US')} / ${MAX_TEXT.toLocaleString('en-US')}` : '';
  els.counter.classList.toggle('over', n > MAX_TEXT);
  updateSend(v);
  if (typed && ta.value && v.roomId) {
    const now = Date.now();
    if (now - v.lastTypingSent >= TYPING_EVERY_MS && live.send({ type: 'typing', room_id: v.roomId })) v.lastTypingSent = now;
  }
}

function updateSend(v) {
  const { els } = v;
  const n = textLength(els.input.value);
  const uploading = v.uploads.some((u) => u.state === 'uploading');
  const ready = v.uploads.filter((u) => u.state === 'done').length;
  const failed = v.uploads.some((u) => u.state === 'error');
  els.send.disabled = !!v.sending || els.input.disabled || uploading || failed || n > MAX_TEXT
    || (!els.input.value.trim() && !ready);
  els.send.textContent = uploading ? 'Uploading…' : 'Send';
}

function setComposerEnabled(v, on) {
  const { els } = v;
  if (!els.input) return;
  els.input.disabled = !on;
  els.attach.disabled = !on;
  els.input.placeholder = on ? 'Write a message…' : 'This conversation is archived';
  updateSend(v);
}

function addFiles(v, files) {
  if (!files.length || v.els.input.disabled) return;
  const room = MAX_FILES - v.uploads.length;
  if (files.length > room) {
    toast(`A message carries at most ${MAX_FILES} files; ${room > 0 ? `only the first ${room} were added` : 'send these first'}.`, 'warn');
    files = files.slice(0, Math.max(0, room));
  }
  for (const file of files) {
    const up = { file, state: 'uploading', sent: 0, total: file.size, xhr: null, id: null, error: '' };
    v.uploads.push(up);
    uploadFile(file, {
      onStart: (xhr) => { up.xhr = xhr; },
      onProgress: (sent, total) => {
        up.sent = sent;
        up.total = total;
        renderPending(v);
      },
    }).then((f) => {
      up.state = 'done';
      up.id = f.id;
    }, (e) => {
      if (e.code === 'aborted') return;
      up.state = 'error';
      up.error = explain(e, `upload “${file.name}”`);
    }).finally(() => {
      if (!v.destroyed) renderPending(v);
    });
  }
  renderPending(v);
}

function renderPending(v) {
  const { els } = v;
  els.pending.hidden = !v.uploads.length;
  els.pending.replaceChildren(...v.uploads.map((up) => {
    const pct = up.total ? Math.round((up.sent / up.total) * 100) : 0;
    const remove = h('button.icon-btn', {
      type: 'button',
      'aria-label': `Remove ${up.file.name}`,
      onclick: () => {
        if (up.xhr && up.state === 'uploading') up.xhr.abort();
        v.uploads = v.uploads.filter((x) => x !== up);
        renderPending(v);
      },
    }, '×');
    return h('li.pending-file', { class: `pending-${up.state}` },
      h('span.pending-name', up.file.name),
      up.state === 'uploading'
        ? h('progress', { max: 100, value: pct, 'aria-label': `Uploading ${up.file.name}` })
        : null,
      h('span.pending-state', up.state === 'uploading' ? `${pct}%` : up.state === 'done' ? fmtSize(up.file.size) : up.error),
      remove);
  }));
  updateSend(v);
}

async function sendMessage(v) {
  const { els } = v;
  updateSend(v);
  if (els.send.disabled) return;
  const text = els.input.value;
  const body = { text };
  const ids = v.uploads.filter((u) => u.state === 'done').map((u) => u.id);
  if (ids.length) body.file_ids = ids;
  if (v.replyTo) body.reply_to = v.replyTo.id;
  v.sending = true;
  updateSend(v);
  try {
    const r = await api(`/rooms/${encodeURIComponent(v.roomId)}/messages`, { method: 'POST', body });
    if (v.destroyed) return;
    els.input.value = '';
    drafts.delete(v.roomId);
    v.uploads = [];
    v.replyTo = null;
    renderReply(v);
    renderPending(v);
    upsert(v, r.message);
    scrollToBottom(v, true);
    maybeMarkRead(v);
  } catch (e) {
    toast(explain(e, 'send this message'), 'error');
  }
  v.sending = false;
  inputChanged(v, false);
  els.input.focus();
}

// ---- Typing and dropping -------------------------------------------------------------------

function renderTyping(v) {
  const { els } = v;
  if (!els.typing) return;
  clearTimeout(v.typingTimer);
  const now = Date.now();
  for (const [id, t] of v.typers) if (t.until <= now) v.typers.delete(id);
  const names = [...v.typers.values()].map((t) => t.name);
  els.typing.textContent = !names.length ? ''
    : names.length === 1 ? `${names[0]} is typing…`
      : names.length === 2 ? `${names[0]} and ${names[1]} are typing…`
        : 'Several people are typing…';
  if (names.length) {
    const next = Math.min(...[...v.typers.values()].map((t) => t.until)) - now;
    v.typingTimer = setTimeout(() => renderTyping(v), Math.max(100, next));
  }
}

function dropTarget(v, el) {
  let depth = 0;
  const hasFiles = (ev) => ev.dataTransfer && [...ev.dataTransfer.types].includes('Files');
  el.addEventListener('dragenter', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    depth += 1;
    el.classList.add('drop-active');
  });
  el.addEventListener('dragover', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = v.els.input.disabled ? 'none' : 'copy';
  });
  el.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) el.classList.remove('drop-active');
  });
  el.addEventListener('drop', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    depth = 0;
    el.classList.remove('drop-active');
    addFiles(v, [...ev.dataTransfer.files]);
  });
}

// ---- Search ----------------------------------------------------------------------------

// A word as the server's index sees one: a run of letters and digits.
const WORD_RE = /[\p{L}\p{N}]+/gu;

/** Lower case without accents, as the index compares words. */
function fold(s) {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

function queryWords(q) {
  return [...new Set((q.match(WORD_RE) || []).map(fold))];
}

function buildSearch(v) {
  const { els } = v;
  search.view = v;
  els.searchInput = h('input.room-search-input', {
    type: 'search', name: 'q', placeholder: 'Search messages', 'aria-label': 'Search messages',
    autocomplete: 'off', spellcheck: false, maxlength: MAX_QUERY, enterkeyhint: 'search',
  });
  els.searchInput.value = search.q;
  els.searchClear = h('button.icon-btn.room-search-clear', {
    type: 'button', 'aria-label': 'Clear the search', hidden: !search.q,
    onclick: () => {
      clearSearch(v);
      els.searchInput.focus();
    },
  }, '×');
  els.searchPane = h('div.search-pane', { hidden: true, role: 'region', 'aria-label': 'Search results' });
  els.searchInput.addEventListener('input', () => {
    els.searchClear.hidden = !els.searchInput.value;
    clearTimeout(v.searchTimer);
    v.searchTimer = setTimeout(() => runSearch(v), SEARCH_DELAY_MS);
  });
  els.searchInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && els.searchInput.value) {
      ev.preventDefault();
      clearSearch(v);
    }
  });
  return h('form.room-search', {
    role: 'search',
    onsubmit: (ev) => {
      ev.preventDefault();
      runSearch(v, true);
    },
  }, h('span.room-search-icon', { 'aria-hidden': 'true' }), els.searchInput, els.searchClear);
}

function clearSearch(v) {
  clearTimeout(v.searchTimer);
  v.els.searchInput.value = '';
  search.q = '';
  search.results = null;
  search.error = null;
  search.busy = false;
  search.seq += 1; // an answer still on its way is dropped
  renderSearch(v);
}

async function runSearch(v, again = false) {
  clearTimeout(v.searchTimer);
  const q = v.els.searchInput.value.trim().slice(0, MAX_QUERY);
  if (q === search.q && !again && (search.results || search.busy)) return;
  search.q = q;
  search.error = null;
  const seq = (search.seq += 1);
  if (!q || !queryWords(q).length) {
    // Nothing to look for (the server would refuse a query without a word).
    search.results = q ? [] : null;
    search.busy = false;
    renderSearch(v);
    return;
  }
  search.busy = true;
  renderSearch(v);
  let results = null, error = null;
  try {
    results = (await api(`/search?q=${encodeURIComponent(q)}&limit=${SEARCH_LIMIT}`)).messages || [];
  } catch (e) {
    error = explain(e, 'search your messages');
  }
  if (seq !== search.seq) return; // a newer query, or the box was cleared
  search.busy = false;
  search.results = results;
  search.error = error;
  // The page may have been drawn anew meanwhile (a room opened): draw the current one.
  if (search.view && !search.view.destroyed) renderSearch(search.view);
}

function renderSearch(v) {
  const { els } = v;
  if (!els.searchPane || v.destroyed) return;
  const active = !!search.q;
  els.searchClear.hidden = !els.searchInput.value;
  els.roomNav.hidden = active;
  els.searchPane.hidden = !active;
  els.searchPane.setAttribute('aria-busy', search.busy ? 'true' : 'false');
  if (!active) {
    els.searchPane.replaceChildren();
    return;
  }
  const words = queryWords(search.q);
  let content;
  if (search.error) {
    content = [h('p.notice.notice-error', { role: 'alert' }, search.error)];
  } else if (!search.results) {
    content = [h('p.search-note.muted', 'Searching…')];
  } else if (!search.results.length) {
    content = [h('div.search-empty',
      h('p', `No messages match “${search.q}”.`),
      h('p.muted.small', words.length
        ? 'Words match from their start, accents aside: “inv” finds “invoice”. A message has to hold every word.'
        : 'Type a word: letters and digits are what a search looks for.'))];
  } else {
    const n = search.results.length;
    search.untitled = search.results.some((m) => !live.room(m.room_id));
    content = [
      h('p.search-note.muted', n >= SEARCH_LIMIT
        ? `The newest ${n} matches. Add a word to narrow them down.`
        : `${n} ${n === 1 ? 'message' : 'messages'}, newest first`),
      h('ul.search-results', search.results.map((m) => searchHit(v, m, words))),
    ];
  }
  els.searchPane.replaceChildren(...content);
}

/** The part of a long text around its first matching word, on one line. */
function excerpt(text, words) {
  const flat = text.replace(/\s+/g, ' ').trim();
  const LEN = 160;
  if (flat.length <= LEN) return flat;
  let at = 0;
  for (const m of flat.matchAll(WORD_RE)) {
    const f = fold(m[0]);
    if (words.some((w) => f.startsWith(w))) {
      at = m.index;
      break;
    }
  }
  let start = Math.max(0, at - 50);
  if (start > 0) {
    const space = flat.indexOf(' ', start);
    start = space >= 0 && space < at ? space + 1 : start;
  }
  const end = Math.min(flat.length, start + LEN);
  return `${start > 0 ? '…' : ''}${flat.slice(start, end)}${end < flat.length ? '…' : ''}`;
}

/** The text as text nodes, with the words the query matches in <mark> elements. */
export function highlight(text, words) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(WORD_RE)) {
    const f = fold(m[0]);
    if (!words.some((w) => f.startsWith(w))) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('mark', m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function searchHit(v, m, words) {
  const r = live.room(m.room_id);
  const ms = Date.parse(m.created_at);
  let text;
  if (m.deleted) text = h('span.msg-gone', 'This message was deleted');
  else if (m.text) text = highlight(excerpt(m.text, words), words);
  else text = h('span.muted', snippet(m));
  return h('li', h('a.search-hit', {
    href: `#/messages/${encodeURIComponent(m.room_id)}`,
    'aria-current': m.room_id === v.roomId ? 'true' : null,
    dataset: { room: m.room_id, message: m.id },
    onclick: (ev) => {
      if (m.room_id === v.roomId && v.loaded) {
        // The room is open already: the URL does not change, so show the message here.
        ev.preventDefault();
        showMessage(v, m.id);
        return;
      }
      focusOnOpen = { room: m.room_id, id: m.id };
    },
  },
  h('span.search-hit-head',
    h('span.search-hit-room', r ? r.title : 'Conversation'),
    h('time.search-hit-time', { datetime: m.created_at, title: new Date(ms).toLocaleString() }, whenShort(v, m.created_at))),
  h('span.search-hit-body',
    h('span.search-hit-author', `${m.author && m.author.id === v.me ? 'You' : authorName(v, m.author)}: `),
    text)));
}

// ---- A room's files ---------------------------------------------------------------------

function whenWithTime(v, iso) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const day = dateInZone(ms, v.zone);
  const today = dateInZone(Date.now(), v.zone);
  const time = fmtTime(ms, v.zone);
  if (day === today) return `Today, ${time}`;
  if (day === addDays(today, -1)) return `Yesterday, ${time}`;
  return `${fmtDate(day, 'short')}, ${time}`;
}

function fileExt(name) {
  return ((/\.([A-Za-z0-9]{1,5})$/.exec(name) || [])[1] || 'file').toUpperCase();
}

/** "PNG image", "PDF", "Text" ... from the sniffed type; "File" when it says nothing. */
function typeLabel(type) {
  const [major, minor = ''] = String(type || '').split('/');
  const sub = minor.replace(/^(x-|vnd\.)/, '').split(/[.+;]/)[0].toUpperCase();
  if (major === 'image') return `${sub || 'An'} image`;
  if (major === 'text') return sub === 'PLAIN' ? 'Text' : `${sub} text`;
  if (major === 'video' || major === 'audio') return `${sub} ${major}`;
  if (type === 'application/octet-stream' || !sub) return 'File';
  return sub;
}

async function showFiles(v, r) {
  const enc = encodeURIComponent(r.id);
  const jumpTo = await modal({
    title: 'Files',
    className: 'files-dialog',
    build: (close) => {
      const body = h('div.dialog-body.files-body', { 'aria-busy': 'true' },
        h('p.muted.files-note', 'Loading files…'));
      api(`/rooms/${enc}/files`).then(({ files }) => {
        body.removeAttribute('aria-busy');
        if (!files.length) {
          body.replaceChildren(h('div.files-empty',
            h('span.files-empty-icon', { 'aria-hidden': 'true' }),
            h('p', 'No files in this conversation yet.'),
            h('p.muted.small', 'Files attached to its messages are listed here, newest first.')));
          return;
        }
        body.replaceChildren(
          h('p.muted.files-note', `${r.title} · ${files.length} ${files.length === 1 ? 'file' : 'files'}, newest first`),
          h('ul.files-list', files.map((f) => fileRow(v, f, close))));
      }, (e) => {
        body.removeAttribute('aria-busy');
        body.replaceChildren(h('p.notice.notice-error', { role: 'alert' }, explain(e, 'list the files of this conversation')));
      });
      return h('div',
        body,
        h('div.dialog-actions', h('button.btn', { type: 'button', onclick: () => close() }, 'Close')));
    },
  });
  if (jumpTo && !v.destroyed && v.roomId === r.id) showMessage(v, jumpTo);
}

function fileRow(v, f, close) {
  let preview;
  if (f.thumb_url) {
    const img = h('img', { alt: '', decoding: 'async' });
    preview = h('span.files-preview.files-thumb.loading', img);
    img.addEventListener('load', () => preview.classList.remove('loading'));
    fileThumb(v, f, img, preview);
  } else {
    preview = h('span.files-preview.file-ext', { 'aria-hidden': 'true' }, fileExt(f.name));
  }
  const who = f.author && f.author.id === v.me ? 'you' : authorName(v, f.author);
  return h('li.files-row',
    h('button.files-main', { type: 'button', title: `Download ${f.name}`, onclick: () => saveFile(f) },
      preview,
      h('span.files-info',
        h('span.file-name', f.name),
        h('span.files-meta',
          h('span', `${fmtSize(f.size)} · ${typeLabel(f.type)}`),
          h('span', `Posted by ${who} · `, h('time', { datetime: f.posted_at || f.created_at }, whenWithTime(v, f.posted_at || f.created_at)))))),
    f.message_id
      ? h('button.btn.btn-small.btn-quiet.files-show', { type: 'button', onclick: () => close(f.message_id), title: 'Show the message it came with' }, 'Show')
      : null);
}

/** A thumbnail through the page's cache of blob URLs; the type badge when there is none. */
async function fileThumb(v, f, img, box) {
  let u = v.thumbs.get(f.id);
  try {
    if (!u) {
      u = apiBlob(f.thumb_url).then((b) => URL.createObjectURL(b));
      v.thumbs.set(f.id, u);
    }
    const url = await u;
    if (v.destroyed) return;
    v.thumbs.set(f.id, url);
    img.src = url;
  } catch {
    v.thumbs.delete(f.id);
    box.className = 'files-preview file-ext';
    box.replaceChildren(fileExt(f.name));
  }
}
