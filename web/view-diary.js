// The Work Diary of one contract and one day: rows of six segments (an hour
// with 10-minute segments), each with its screenshot, ten activity bars,
// memo, tags and flags; day totals; a time-zone switch; the screenshot
// viewer with minute-by-minute counts; the freelancer's edits (delete, memo
// and tags, manual time) and the client's (tags, dispute). It polls the
// diary so new segments appear, and pauses while the tab is hidden.

import { api, apiBlob, explain } from './api.js';
import { h, clear, toast, modal, confirmDialog, formDialog, field, nextId } from './dom.js';
import {
  zoneParts, zonedToUtc, dateInZone, isDate, addDays, isoWeek, weekLockAt, fmtTime, fmtDate,
  fmtHM, fmtLong, fmtTimeSeconds, zoneAbbrev,
} from './time.js';
import { zoneFor, FLAGS, flagPill, contractHeader } from './common.js';

const POLL_DEFAULT_S = 20;

function pollSeconds() {
  // A developer may poll faster (localStorage 'stint.pollSeconds'); never below 1 s.
  try {
    const v = Number(localStorage.getItem('stint.pollSeconds'));
    if (v >= 1) return v;
  } catch {
    // Storage off: the default.
  }
  return POLL_DEFAULT_S;
}

export async function render(main, params, ctx) {
  const enc = encodeURIComponent(params.id);
  const st = {
    ctx, main, contract: null, date: params.date, zonePref: ctx.zonePref(), zone: 'UTC',
    diary: null, sheet: null, segs: [], byId: new Map(), selected: new Set(), focusId: null,
    lastKey: '', thumbs: new Map(), observer: null, timer: null, destroyed: false,
    els: {}, enc, loading: false, updatedAt: 0,
  };
  const isClient = ctx.user.role === 'client';
  st.isClient = isClient;

  main.append(h('div.page.page-wide', h('p.muted', { 'aria-busy': 'true' }, 'Loading the Work Diary…')));
  try {
    const [r] = await Promise.all([api(`/contracts/${enc}`), ctx.refreshClock()]);
    st.contract = r.contract;
  } catch (e) {
    clear(main).append(h('div.page', h('div.empty',
      h('h1', e.status === 404 ? 'Contract not found' : 'The Work Diary could not be loaded'),
      h('p.muted', e.status === 404
        ? 'This contract does not exist, or you are not a party to it.'
        : explain(e, 'load this Work Diary')),
      h('p', h('a.btn', { href: '#/contracts' }, 'Back to contracts')))));
    return null;
  }
  st.zone = zoneFor(ctx, st.contract, st.zonePref);
  if (!isDate(st.date)) {
    st.date = dateInZone(ctx.now(), st.zone);
    history.replaceState(null, '', `#/contracts/${params.id}/diary/${st.date}`);
  }
  document.title = `Work Diary · ${st.contract.title} · stint`;
  buildPage(st);

  const onKey = (ev) => globalKeys(st, ev);
  const onVisible = () => {
    if (document.hidden) {
      stopPolling(st);
      setLive(st);
    } else {
      refresh(st);
    }
  };
  document.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', onVisible);
  st.observer = new IntersectionObserver((entries) => {
    for (const en of entries) {
      if (en.isIntersecting) {
        st.observer.unobserve(en.target);
        loadThumb(st, en.target);
      }
    }
  }, { rootMargin: '600px' });

  await refresh(st, { focus: 'keep' });

  return () => {
    st.destroyed = true;
    stopPolling(st);
    st.observer.disconnect();
    document.removeEventListener('keydown', onKey);
    document.removeEventListener('visibilitychange', onVisible);
    for (const u of st.thumbs.values()) if (typeof u === 'string') URL.revokeObjectURL(u);
  };
}

// ---- The page's frame -------------------------------------------------------

function buildPage(st) {
  const { ctx, contract } = st;
  const base = `#/contracts/${contract.id}`;
  const els = st.els;

  els.dateInput = h('input', { type: 'date', value: st.date, id: 'diary-date', required: true });
  els.dateInput.addEventListener('change', () => {
    if (isDate(els.dateInput.value)) goDay(st, els.dateInput.value);
  });
  const dayNav = h('div.day-nav', { role: 'group', 'aria-label': 'Day' },
    h('button.btn.icon-btn', { type: 'button', 'aria-label': 'Previous day', title: 'Previous day ([ or Page Up)', onclick: () => goDay(st, addDays(st.date, -1)) }, '‹'),
    h('label.visually-hidden', { for: 'diary-date' }, 'Day'),
    els.dateInput,
    h('button.btn.icon-btn', { type: 'button', 'aria-label': 'Next day', title: 'Next day (] or Page Down)', onclick: () => goDay(st, addDays(st.date, 1)) }, '›'),
    h('button.btn', { type: 'button', onclick: () => goDay(st, dateInZone(ctx.now(), st.zone)) }, 'Today'));

  const zoneName = nextId('zone');
  const option = (value, label, zone) => {
    const input = h('input', { type: 'radio', name: zoneName, value, checked: st.zonePref === value });
    input.addEventListener('change', () => {
      if (!input.checked) return;
      st.zonePref = value;
      ctx.setZonePref(value);
      st.zone = zoneFor(ctx, contract, value);
      els.zoneNote.textContent = zoneNote(st);
      st.lastKey = '';
      refresh(st, { focus: 'keep' });
    });
    return h('label.seg-option', input, h('span', label, h('small', zone)));
  };
  els.zoneNote = h('span.zone-note.muted', zoneNote(st));
  const zones = h('fieldset.zone-switch',
    h('legend', 'Time zone'),
    h('div.seg-options',
      option('utc', 'UTC', 'UTC'),
      option('mine', 'Mine', ctx.browserZone()),
      option('freelancer', ctx.user.role === 'freelancer' ? 'My profile' : 'Freelancer’s', contract.freelancer.timezone || 'UTC')));

  els.dayTitle = h('h2.day-title');
  els.totals = h('div.day-totals');
  els.week = h('p.week-line.muted');
  els.live = h('p.live', { 'aria-live': 'off' });
  els.lock = h('div.notice-area');
  els.notice = h('div.notice-area', { role: 'alert' });
  els.selBar = h('div.selection-bar', { role: 'region', 'aria-label': 'Selected segments' });
  els.grid = h('div.diary-grid', { role: 'list', 'aria-label': 'Segments of the day' });
  els.grid.addEventListener('keydown', (ev) => gridKeys(st, ev));

  const legend = h('details.legend', { open: true },
    h('summary', 'Legend'),
    h('ul.legend-list',
      h('li', h('span.bars.bars-sample', { 'aria-hidden': 'true' }, [1, 1, 1, 2, 1, 0, 1, 1, 2, 0].map((v) => h('span.bar', { class: v === 1 ? 'on' : v === 2 ? 'idle' : '' }))),
        h('span', 'Activity: one bar per minute with keyboard or mouse input (light: tracked without input)')),
      h('li.legend-active', h('span.legend-key', 'active seconds'),
        h('span', 'Wayland gives no key or mouse counts: its segments show the seconds with any input instead, and synthetic input cannot be told apart there.')),
      FLAGS.map(([key, , text]) => h('li', flagPill(key), h('span', text)))));

  clear(st.main).append(h('div.page.page-wide',
    contractHeader(contract, ctx, 'diary', { diary: `${base}/diary/${st.date}`, timesheet: `${base}/timesheet` }),
    h('section.diary-controls', { 'aria-label': 'Day and time zone' }, dayNav, zones, els.zoneNote),
    h('section.day-summary', { 'aria-label': 'Day totals' },
      h('div.day-summary-main', els.dayTitle, els.totals), h('div.day-summary-side', els.week, els.live)),
    els.lock,
    els.notice,
    els.selBar,
    els.grid,
    h('p.kbd-help.muted',
      'Keyboard: arrow keys move between segments, Space selects, Enter opens the screenshot, [ and ] (or Page Up and Page Down) change the day.'),
    legend));
  renderSelBar(st);
}

function zoneNote(st) {
  return `Times in ${st.zone} (${zoneAbbrev(zonedToUtc(st.date, '12:00', st.zone), st.zone)})`;
}

function goDay(st, date) {
  if (!isDate(date) || date === st.date) return;
  st.date = date;
  st.selected.clear();
  st.focusId = null;
  st.lastKey = '';
  st.els.dateInput.value = date;
  history.pushState(null, '', `#/contracts/${st.contract.id}/diary/${date}`);
  const tab = st.main.querySelector('.tabs a');
  if (tab) tab.href = `#/contracts/${st.contract.id}/diary/${date}`;
  clearNotice(st);
  refresh(st, { focus: 'first' });
}

// ---- Loading and polling ----------------------------------------------------

function stopPolling(st) {
  clearTimeout(st.timer);
  st.timer = null;
}

function schedule(st) {
  stopPolling(st);
  if (st.destroyed || document.hidden) return;
  st.timer = setTimeout(() => refresh(st), pollSeconds() * 1000);
}

function dayRange(st) {
  const start = zonedToUtc(st.date, '00:00', st.zone);
  const end = zonedToUtc(addDays(st.date, 1), '00:00', st.zone);
  return { start, end };
}

async function refresh(st, { focus } = {}) {
  if (st.destroyed) return;
  stopPolling(st);
  const { ctx } = st;
  const date = st.date, zone = st.zone;
  const { start } = dayRange(st);
  try {
    const [diary, sheet] = await Promise.all([
      api(`/contracts/${st.enc}/diary?from=${date}&to=${date}&tz=${encodeURIComponent(zone)}`),
      api(`/contracts/${st.enc}/timesheets?week=${isoWeek(start)}`).then((r) => r.timesheet).catch(() => null),
      ctx.refreshClock().catch(() => null),
    ]);
    if (st.destroyed || date !== st.date || zone !== st.zone) return;
    st.diary = diary;
    st.sheet = sheet;
    st.updatedAt = Date.now();
    const key = JSON.stringify([diary, sheet && [sheet.state, sheet.billable_s, sheet.tracked_s, sheet.manual_s]]);
    if (key !== st.lastKey) {
      st.lastKey = key;
      renderDay(st, focus);
    }
    setLive(st);
  } catch (e) {
    if (st.destroyed) return;
    if (e.status === 400 && zone !== 'UTC') {
      showNotice(st, `The server does not know the time zone ${zone}; showing UTC instead.`, 'warn');
      st.zone = 'UTC';
      st.els.zoneNote.textContent = zoneNote(st);
      return refresh(st, { focus });
    }
    setLive(st, explain(e, 'load the diary'));
  }
  schedule(st);
}

function setLive(st, error) {
  const el = st.els.live;
  if (!el) return;
  clear(el);
  if (error) {
    el.className = 'live live-error';
    el.append(h('span.live-dot', { 'aria-hidden': 'true' }), `Not updating: ${error}`);
  } else if (document.hidden) {
    el.className = 'live live-paused';
    el.append(h('span.live-dot', { 'aria-hidden': 'true' }), 'Updates paused while this tab is hidden');
  } else {
    el.className = 'live';
    el.append(h('span.live-dot', { 'aria-hidden': 'true' }),
      `Live · updated ${fmtTimeSeconds(st.updatedAt, st.ctx.browserZone())}`);
  }
}

// ---- The day ------------------------------------------------------------------

function locked(st, seg) {
  return weekLockAt(Date.parse(seg.start)) <= st.ctx.now();
}

function renderDay(st, focus) {
  const { els, diary, ctx } = st;
  const segS = ctx.config.segment_s || 600;
  st.segs = diary.segments.slice().sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  st.byId = new Map(st.segs.map((s) => [s.id, s]));
  for (const id of [...st.selected]) if (!st.byId.has(id)) st.selected.delete(id);
  if (st.focusId && !st.byId.has(st.focusId)) st.focusId = null;

  // Totals.
  const day = diary.days[0] || { tracked_s: 0, manual_s: 0, billable_s: 0 };
  const over = diary.totals ? diary.totals.over_limit_s : 0;
  els.dayTitle.textContent = fmtDate(st.date);
  clear(els.totals).append(
    h('div.total-main', h('span.total-figure', fmtHM(day.tracked_s + day.manual_s)), h('span.total-unit', 'hrs')),
    h('dl.total-parts',
      h('div', h('dt', 'Tracked'), h('dd', fmtHM(day.tracked_s))),
      h('div', h('dt', 'Manual'), h('dd', fmtHM(day.manual_s))),
      h('div', h('dt', 'Billable'), h('dd', fmtHM(day.billable_s))),
      over ? h('div.text-warn', h('dt', 'Over limit'), h('dd', fmtHM(over))) : null));

  const sheet = st.sheet;
  clear(els.week);
  if (sheet) {
    const worked = sheet.tracked_s + sheet.manual_s;
    const limit = sheet.weekly_limit_s;
    els.week.append(`Week ${sheet.week}: ${fmtHM(worked)} hrs`,
      limit === null ? ' (no limit)' : ` of ${fmtHM(limit)} hrs limit`, ' · ',
      h('a', { href: `#/contracts/${st.contract.id}/timesheet/${sheet.week}` }, 'Timesheet'));
  }

  // The lock, said before anyone tries.
  const { start, end } = dayRange(st);
  const lockedFrom = weekLockAt(start), lockedTo = weekLockAt(end - 1);
  const now = ctx.now();
  clear(els.lock);
  if (lockedTo <= now || lockedFrom <= now) {
    const all = lockedTo <= now;
    els.lock.append(h('div.notice.notice-lock',
      h('strong', all ? 'This week is locked.' : 'Part of this day is in a locked week.'),
      ` Since ${fmtTime(lockedFrom, st.zone)} on ${fmtDate(dateInZone(lockedFrom, st.zone), 'short')} its time, memos and tags are final: `,
      st.isClient ? 'tags can no longer be edited; a week in review can still be approved or disputed.'
        : 'segments can no longer be deleted or edited, and no manual time can be added.'));
  }

  // Rows of six segments.
  const rowSpan = 6 * segS;
  const rows = new Map();
  for (const s of st.segs) {
    const t = Date.parse(s.start);
    const p = zoneParts(t, st.zone);
    const into = (p.hh * 3600 + p.mm * 60 + p.ss) % rowSpan;
    const rowStart = t - into * 1000;
    const col = Math.min(5, Math.floor(into / segS));
    if (!rows.has(rowStart)) rows.set(rowStart, [[], [], [], [], [], []]);
    rows.get(rowStart)[col].push(s);
  }
  const grid = els.grid;
  const hadFocus = grid.contains(document.activeElement);
  st.observer.disconnect();
  clear(grid);
  if (!st.segs.length) {
    grid.append(h('div.empty.empty-day', { role: 'listitem' },
      h('h3', 'No time on this day'),
      h('p.muted', st.isClient ? 'Time the freelancer tracks appears here within a minute or so.'
        : 'Time you track appears here as soon as the tracker uploads it.')));
  }
  for (const rowStart of [...rows.keys()].sort((a, b) => a - b)) {
    const cols = rows.get(rowStart);
    const rowTotal = cols.flat().reduce((n, s) => n + s.tracked_s, 0);
    const label = fmtTime(rowStart, st.zone);
    grid.append(h('div.hour-row', { role: 'listitem', 'aria-label': `From ${label}` },
      h('div.hour-label', h('span.hour-time', label), h('span.hour-total', `${fmtHM(rowTotal)} hrs`)),
      h('div.hour-cells', cols.map((list, i) => {
        if (!list.length) {
          const t = rowStart + i * segS * 1000;
          return h('div.slot.slot-empty', { 'aria-hidden': 'true' }, h('span', fmtTime(t, st.zone)));
        }
        return h('div.slot', list.map((s) => segCell(st, s)));
      }))));
  }
  renderSelBar(st);
  updateRoving(st, focus, hadFocus);
}

function segLabel(st, s) {
  const t = Date.parse(s.start);
  return `${fmtTime(t, st.zone)} – ${fmtTime(Date.parse(s.end), st.zone)}`;
}

function segCell(st, s) {
  const sel = st.selected.has(s.id);
  const label = segLabel(st, s);
  const check = h('input', { type: 'checkbox', tabindex: '-1', checked: sel, 'aria-label': `Select ${label}` });
  check.checked = sel;
  check.addEventListener('change', () => {
    toggleSelect(st, s.id, check.checked);
  });
  const shot = s.screenshot || {};
  let thumb;
  if (shot.thumb_url) {
    const img = h('img', { alt: `Screenshot at ${shot.taken_at ? fmtTime(Date.parse(shot.taken_at), st.zone) : label}`, width: 320, height: 200, decoding: 'async' });
    const cached = st.thumbs.get(s.id);
    if (typeof cached === 'string') img.src = cached;
    thumb = h('button.seg-thumb', {
      type: 'button', tabindex: '-1', 'aria-label': `Open the screenshot of ${label}`,
      dataset: { id: s.id }, onclick: () => openViewer(st, s.id),
    }, img);
    if (typeof cached !== 'string') {
      thumb.classList.add('loading');
      st.observer.observe(thumb);
    }
  } else {
    const why = s.manual ? 'Manual time' : shot.status === 'disabled' ? 'Screenshots off'
      : shot.status === 'failed' ? 'Capture failed' : 'No screenshot';
    thumb = h('button.seg-thumb.seg-thumb-none', {
      type: 'button', tabindex: '-1', 'aria-label': `Details of ${label}`, onclick: () => openViewer(st, s.id),
    }, h('span', why), shot.reason ? h('small', shot.reason) : null);
  }
  const flags = s.flags || [];
  const cls = ['seg'];
  if (sel) cls.push('selected');
  if (flags.length) cls.push(`seg-flag-${flags[0]}`);
  return h('div', {
    class: cls.join(' '), tabindex: '-1', dataset: { id: s.id }, role: 'group',
    'aria-label': `${label}, activity ${s.activity} of 10${isActiveSeconds(s) ? `, ${activeTotal(s)} active seconds` : ''}, ${fmtLong(s.tracked_s)}${flags.length ? `, ${flags.map((f) => f.replace(/_/g, ' ')).join(', ')}` : ''}${sel ? ', selected' : ''}`,
    onfocus: () => { st.focusId = s.id; updateRoving(st); },
  },
  h('div.seg-head', h('label.seg-check', check, h('span.seg-time', fmtTime(Date.parse(s.start), st.zone))), h('span.seg-dur', fmtHM(s.tracked_s))),
  thumb,
  activityBars(s),
  isActiveSeconds(s) ? h('p.seg-active.muted.small', `${activeTotal(s)} active seconds`) : null,
  h('p.seg-memo', { title: s.memo || '' }, s.memo || h('span.muted', 'No memo')),
  s.tags && s.tags.length ? h('ul.tags', { 'aria-label': 'Tags' }, s.tags.map((t) => h('li.tag', t))) : null,
  flags.length ? h('div.seg-flags', flags.map(flagPill)) : null);
}

// A segment measures activity as counts (keys, mouse) or as active seconds
// (Wayland: counts are unavailable, null). A minute had input under its measure.
function isActiveSeconds(s) {
  return s.activity_measure === 'active_seconds';
}

function minuteHasInput(s, m) {
  return isActiveSeconds(s) ? m.active_s > 0 : m.keys + m.mouse > 0;
}

function activeTotal(s) {
  return s.minutes.reduce((n, m) => n + (m.active_s || 0), 0);
}

function activityBars(s) {
  if (!isActiveSeconds(s)) {
    return h('div.bars', { title: `Activity ${s.activity} of 10`, 'aria-hidden': 'true' },
      s.minutes.map((m) => h('span.bar', { class: minuteHasInput(s, m) ? 'on' : m.tracked_s > 0 ? 'idle' : '' })));
  }
  return h('div.bars', { title: `Activity ${s.activity} of 10 · ${activeTotal(s)} active seconds`, 'aria-hidden': 'true' },
    s.minutes.map((m, i) => h('span.bar', {
      class: minuteHasInput(s, m) ? 'on' : m.tracked_s > 0 ? 'idle' : '',
      title: m.tracked_s ? `Minute ${i + 1}: ${m.active_s} active second${m.active_s === 1 ? '' : 's'} of ${m.tracked_s}` : `Minute ${i + 1}: not tracked`,
    })));
}

async function loadThumb(st, button) {
  const id = button.dataset.id;
  const s = st.byId.get(id);
  if (!s || !s.screenshot || !s.screenshot.thumb_url) return;
  let url = st.thumbs.get(id);
  try {
    if (!url) {
      const p = apiBlob(s.screenshot.thumb_url).then((b) => URL.createObjectURL(b));
      st.thumbs.set(id, p);
      url = await p;
      if (st.destroyed) {
        URL.revokeObjectURL(url);
        return;
      }
      st.thumbs.set(id, url);
    } else if (typeof url !== 'string') {
      url = await url;
    }
    const img = button.querySelector('img');
    if (img) img.src = url;
    button.classList.remove('loading');
  } catch {
    st.thumbs.delete(id);
    button.classList.remove('loading');
    button.classList.add('seg-thumb-none');
    button.replaceChildren(h('span', 'Screenshot unavailable'));
  }
}

// ---- Focus, selection and keys ------------------------------------------------

function cells(st) {
  return [...st.els.grid.querySelectorAll('.seg')];
}

function updateRoving(st, focus, hadFocus = false) {
  const all = cells(st);
  if (!all.length) return;
  let target = focus === 'first' ? all[0] : all.find((c) => c.dataset.id === st.focusId);
  if (!target) target = all[0];
  for (const c of all) c.tabIndex = c === target ? 0 : -1;
  st.focusId = target.dataset.id;
  // Focus moves only when the keyboard asked for a new day, or was in the grid before a redraw.
  if ((focus === 'first' && st.keyboardDay) || hadFocus) target.focus({ preventScroll: !st.keyboardDay });
  st.keyboardDay = false;
}

function focusCell(st, cell) {
  if (!cell) return;
  st.focusId = cell.dataset.id;
  for (const c of cells(st)) c.tabIndex = c === cell ? 0 : -1;
  cell.focus();
  cell.scrollIntoView({ block: 'nearest' });
}

function gridKeys(st, ev) {
  const cell = ev.target.closest && ev.target.closest('.seg');
  if (!cell || ev.target !== cell || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const all = cells(st);
  const i = all.indexOf(cell);
  const rect = cell.getBoundingClientRect();
  const vertical = (dir) => {
    // The cell straight above or below: the nearest in the next line of cells.
    const lines = all.filter((c) => {
      const r = c.getBoundingClientRect();
      return dir > 0 ? r.top > rect.top + 4 : r.bottom < rect.bottom - 4;
    });
    if (!lines.length) return null;
    const lineTop = dir > 0 ? Math.min(...lines.map((c) => c.getBoundingClientRect().top))
      : Math.max(...lines.map((c) => c.getBoundingClientRect().top));
    const line = lines.filter((c) => Math.abs(c.getBoundingClientRect().top - lineTop) < 4);
    return line.reduce((best, c) => (Math.abs(c.getBoundingClientRect().left - rect.left)
      < Math.abs(best.getBoundingClientRect().left - rect.left) ? c : best), line[0]);
  };
  let next = null;
  switch (ev.key) {
    case 'ArrowRight': next = all[i + 1]; break;
    case 'ArrowLeft': next = all[i - 1]; break;
    case 'ArrowDown': next = vertical(1); break;
    case 'ArrowUp': next = vertical(-1); break;
    case 'Home': next = all[0]; break;
    case 'End': next = all[all.length - 1]; break;
    case 'Enter': ev.preventDefault(); openViewer(st, cell.dataset.id); return;
    case ' ': ev.preventDefault(); toggleSelect(st, cell.dataset.id, !st.selected.has(cell.dataset.id)); return;
    default: return;
  }
  ev.preventDefault();
  focusCell(st, next);
}

function globalKeys(st, ev) {
  if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey) return;
  if (document.querySelector('dialog[open]')) return;
  const t = ev.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  if (ev.key === '[' || ev.key === 'PageUp') {
    ev.preventDefault();
    st.keyboardDay = true;
    goDay(st, addDays(st.date, -1));
  } else if (ev.key === ']' || ev.key === 'PageDown') {
    ev.preventDefault();
    st.keyboardDay = true;
    goDay(st, addDays(st.date, 1));
  }
}

function toggleSelect(st, id, on) {
  if (on) st.selected.add(id);
  else st.selected.delete(id);
  const cell = st.els.grid.querySelector(`.seg[data-id="${CSS.escape(id)}"]`);
  if (cell) {
    cell.classList.toggle('selected', on);
    const box = cell.querySelector('input[type=checkbox]');
    if (box) box.checked = on;
  }
  renderSelBar(st);
}

function selectedSegs(st) {
  return st.segs.filter((s) => st.selected.has(s.id));
}

// ---- The selection bar and actions ------------------------------------------

function renderSelBar(st) {
  const bar = st.els.selBar;
  if (!bar) return;
  const segs = selectedSegs(st);
  const total = segs.reduce((n, s) => n + s.tracked_s, 0);
  const any = segs.length > 0;
  const c = st.contract;
  const btn = (label, fn, extra = '') => h(`button.btn${extra}`, { type: 'button', disabled: !any, onclick: fn }, label);
  const actions = st.isClient
    ? [btn('Edit tags', () => editSegments(st)), btn('Dispute…', () => disputeSegments(st), '.btn-danger-quiet')]
    : [btn('Edit memo & tags', () => editSegments(st)), btn('Delete…', () => deleteSegments(st), '.btn-danger-quiet')];
  const right = [];
  if (!st.isClient && c.manual_time_allowed && c.state === 'active') {
    right.push(h('button.btn.btn-primary', { type: 'button', onclick: () => addManual(st) }, 'Add manual time'));
  }
  const allSelected = st.segs.length > 0 && segs.length === st.segs.length;
  clear(bar).append(
    h('div.selection-info',
      h('button.btn.btn-quiet', {
        type: 'button', disabled: !st.segs.length,
        onclick: () => {
          if (allSelected) st.selected.clear();
          else for (const s of st.segs) st.selected.add(s.id);
          for (const cell of cells(st)) {
            const on = st.selected.has(cell.dataset.id);
            cell.classList.toggle('selected', on);
            cell.querySelector('input[type=checkbox]').checked = on;
          }
          renderSelBar(st);
        },
      }, allSelected ? 'Select none' : 'Select all'),
      h('span.selection-count', { 'aria-live': 'polite' }, any
        ? `${segs.length} selected · ${fmtHM(total)} hrs`
        : 'Select segments to act on them')),
    h('div.selection-actions', actions, right));
}

function clearNotice(st) {
  clear(st.els.notice);
}

function showNotice(st, message, kind = 'error') {
  clear(st.els.notice).append(h('div.notice', { class: `notice-${kind}` }, message));
  st.els.notice.scrollIntoView({ block: 'nearest' });
}

/** Refuses an edit of a locked week before asking the server; true when refused. */
function refuseLocked(st, segs, doing) {
  if (!segs.some((s) => locked(st, s))) return false;
  showNotice(st, `This week is locked, so you can no longer ${doing}. A week locks on the Monday after it at 12:00 UTC; from then on its time, memos and tags are final.`, 'lock');
  return true;
}

function afterChange(st, focus) {
  st.lastKey = '';
  return refresh(st, { focus });
}

async function deleteSegments(st) {
  const segs = selectedSegs(st);
  if (!segs.length) return;
  clearNotice(st);
  if (refuseLocked(st, segs, 'delete its time')) return;
  const total = segs.reduce((n, s) => n + s.tracked_s, 0);
  const first = segs[0], last = segs[segs.length - 1];
  const span = `${fmtTime(Date.parse(first.start), st.zone)} – ${fmtTime(Date.parse(last.end), st.zone)}`;
  const ok = await confirmDialog({
    title: segs.length === 1 ? 'Delete this segment?' : `Delete ${segs.length} segments?`,
    message: `This removes ${fmtLong(total)} of time (${fmtHM(total)} hrs, between ${span}) from ${fmtDate(st.date)}.`,
    details: 'Their screenshots are destroyed at once and the client will not be billed for this time. This cannot be undone.',
    confirmLabel: `Delete ${fmtLong(total)}`,
    danger: true,
  });
  if (!ok) return;
  let done = 0;
  try {
    for (const s of segs) {
      await api(`/segments/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
      done += 1;
      st.selected.delete(s.id);
      const u = st.thumbs.get(s.id);
      if (typeof u === 'string') URL.revokeObjectURL(u);
      st.thumbs.delete(s.id);
    }
    toast(`Deleted ${fmtLong(total)} of time.`, 'success');
  } catch (e) {
    showNotice(st, `${done ? `${done} of ${segs.length} segments were deleted; then: ` : ''}${explain(e, 'delete its time')}`, e.code === 'locked' ? 'lock' : 'error');
  }
  await afterChange(st, 'keep');
}

async function editSegments(st) {
  const segs = selectedSegs(st);
  if (!segs.length) return;
  clearNotice(st);
  const client = st.isClient;
  if (refuseLocked(st, segs, client ? 'edit its tags' : 'edit its memos and tags')) return;
  const contractTags = st.contract.tags || [];
  const memos = new Set(segs.map((s) => s.memo || ''));
  const commonMemo = memos.size === 1 ? [...memos][0] : '';
  const memo = h('textarea', { name: 'memo', rows: 3, maxlength: 1000, placeholder: memos.size > 1 ? 'Several memos: type to replace them all' : 'What was done in this time' });
  memo.value = commonMemo;
  const boxes = contractTags.map((t) => {
    const box = h('input', { type: 'checkbox', name: 'tag', value: t });
    box.checked = segs.every((s) => (s.tags || []).includes(t));
    return box;
  });
  let tagsTouched = false;
  for (const b of boxes) b.addEventListener('change', () => { tagsTouched = true; });
  const n = segs.length;
  const result = await formDialog({
    title: client ? 'Edit tags' : 'Edit memo and tags',
    intro: `${n === 1 ? 'One segment' : `${n} segments`} (${fmtHM(segs.reduce((x, s) => x + s.tracked_s, 0))} hrs) on ${fmtDate(st.date, 'short')}.`,
    fields: () => h('div',
      client ? null : field('Memo', memo),
      h('fieldset.tag-boxes', h('legend', 'Tags'),
        contractTags.length
          ? boxes.map((b, i) => h('label.check', b, h('span', contractTags[i])))
          : h('p.muted', 'This contract has no tags. The client sets them in the contract’s terms.'))),
    submitLabel: 'Save',
    submit: async () => {
      const body = {};
      if (!client && memo.value.trim() !== commonMemo.trim() && (memo.value.trim() || memos.size === 1)) body.memo = memo.value.trim();
      if (tagsTouched) body.tags = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!Object.keys(body).length) return 'unchanged';
      let done = 0;
      for (const s of segs) {
        try {
          await api(`/segments/${encodeURIComponent(s.id)}`, { method: 'PATCH', body });
          done += 1;
        } catch (e) {
          if (done) await afterChange(st, 'keep');
          throw new Error(`${done ? `${done} of ${n} saved; then: ` : ''}${explain(e, client ? 'edit its tags' : 'edit its memos and tags')}`);
        }
      }
      return 'saved';
    },
  });
  if (result === 'saved') {
    toast(client ? 'Tags saved.' : 'Memo and tags saved.', 'success');
    await afterChange(st, 'keep');
  }
}

async function addManual(st) {
  clearNotice(st);
  const { start, end } = dayRange(st);
  if (weekLockAt(start) <= st.ctx.now() && weekLockAt(end - 1) <= st.ctx.now()) {
    showNotice(st, 'This week is locked, so you can no longer add manual time to it. Manual time can be added only within the current week.', 'lock');
    return;
  }
  const from = h('input', { type: 'time', name: 'from', required: true, step: 60 });
  const to = h('input', { type: 'time', name: 'to', required: true, step: 60 });
  const memo = h('textarea', { name: 'memo', rows: 2, maxlength: 1000, required: true, placeholder: 'What was done in this time' });
  const tags = (st.contract.tags || []).map((t) => h('input', { type: 'checkbox', name: 'tag', value: t }));
  const result = await formDialog({
    title: 'Add manual time',
    intro: `On ${fmtDate(st.date)}, times in ${st.zone}. Manual time is flagged “manual” and is not covered by payment protection.`,
    fields: () => h('div',
      h('div.field-row', field('From', from), field('To', to)),
      field('Memo', memo),
      tags.length ? h('fieldset.tag-boxes', h('legend', 'Tags'), tags.map((b) => h('label.check', b, h('span', b.value)))) : null),
    submitLabel: 'Add time',
    submit: async () => {
      if (!from.value || !to.value) throw new Error('Enter the start and end times.');
      if (!memo.value.trim()) throw new Error('Write a memo: what was done in this time.');
      const a = zonedToUtc(st.date, from.value, st.zone);
      let b = zonedToUtc(st.date, to.value, st.zone);
      if (to.value === '00:00') b = zonedToUtc(addDays(st.date, 1), '00:00', st.zone);
      if (b <= a) throw new Error('The end must be after the start.');
      const body = {
        start: new Date(a).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        end: new Date(b).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        memo: memo.value.trim(),
      };
      const chosen = tags.filter((t) => t.checked).map((t) => t.value);
      if (chosen.length) body.tags = chosen;
      try {
        await api(`/contracts/${st.enc}/manual`, { method: 'POST', body });
      } catch (e) {
        if (e.code === 'conflict') throw new Error('That time overlaps time already in the diary. Choose a time with nothing tracked.');
        throw new Error(explain(e, 'add this manual time'));
      }
      return b - a;
    },
  });
  if (result) {
    toast(`Added ${fmtLong(result / 1000)} of manual time.`, 'success');
    await afterChange(st, 'keep');
  }
}

async function disputeSegments(st) {
  const segs = selectedSegs(st);
  if (!segs.length) return;
  clearNotice(st);
  const weeks = new Set(segs.map((s) => isoWeek(Date.parse(s.start))));
  if (weeks.size > 1) {
    showNotice(st, 'A dispute covers one week: select segments of one week only (weeks start Monday 00:00 UTC).');
    return;
  }
  const week = [...weeks][0];
  let sheet;
  try {
    sheet = (await api(`/contracts/${st.enc}/timesheets?week=${week}`)).timesheet;
  } catch (e) {
    showNotice(st, explain(e, 'load the timesheet'));
    return;
  }
  if (sheet.state !== 'review') {
    const why = {
      open: `The week ${week} is still open. It can be disputed after it locks (Monday 12:00 UTC) until the end of Friday.`,
      approved: `The timesheet of ${week} is approved; it can no longer be disputed.`,
      disputed: `The timesheet of ${week} is already disputed.`,
      billed: `The review of ${week} has ended and it was billed; it can no longer be disputed.`,
      paid: `The timesheet of ${week} is paid; it can no longer be disputed.`,
    }[sheet.state] || `The timesheet of ${week} cannot be disputed now (${sheet.state}).`;
    showNotice(st, why, 'warn');
    return;
  }
  const total = segs.reduce((n, s) => n + s.billable_s, 0);
  const reason = h('textarea', { name: 'reason', rows: 4, maxlength: 2000, required: true, placeholder: 'What is wrong with this time?' });
  const result = await formDialog({
    title: `Dispute ${segs.length === 1 ? 'one segment' : `${segs.length} segments`}`,
    intro: `You dispute ${fmtLong(total)} of billed time in ${week}. The contract is paused while the freelancer answers (they have 3 days to accept a refund or decline).`,
    fields: () => field('Reason', reason, 'The freelancer and, if needed, an admin read this.'),
    submitLabel: 'File dispute',
    danger: true,
    submit: async () => {
      if (!reason.value.trim()) throw new Error('Say what is wrong with this time.');
      try {
        return (await api(`/timesheets/${encodeURIComponent(sheet.id)}/dispute`, {
          method: 'POST', body: { reason: reason.value.trim(), segment_ids: segs.map((s) => s.id) },
        })).dispute;
      } catch (e) {
        throw new Error(explain(e, 'file this dispute'));
      }
    },
  });
  if (result) {
    st.selected.clear();
    toast('Dispute filed. The freelancer has 3 days to answer.', 'success');
    showNotice(st, `Dispute filed for ${fmtLong(total)} in ${week}. The contract is paused until it is settled.`, 'success');
    const c = await api(`/contracts/${st.enc}`).catch(() => null);
    if (c) st.contract = c.contract;
    await afterChange(st, 'keep');
  }
}

// ---- The screenshot viewer ----------------------------------------------------

function openViewer(st, id) {
  let current = id;
  let fullUrl = null;
  const { ctx } = st;
  const segS = ctx.config.segment_s || 600;
  return modal({
    title: null,
    className: 'viewer',
    labelledBy: 'viewer-title',
    build: (close, dlg) => {
      const body = h('div.viewer-body');
      const show = async (sid) => {
        const s = st.byId.get(sid);
        if (!s) return;
        current = sid;
        st.focusId = sid;
        if (fullUrl) URL.revokeObjectURL(fullUrl);
        fullUrl = null;
        const idx = st.segs.indexOf(s);
        const prev = st.segs[idx - 1], next = st.segs[idx + 1];
        const t0 = Date.parse(s.start);
        const shot = s.screenshot || {};
        const imgBox = h('div.viewer-image');
        if (shot.url) {
          const img = h('img', { alt: `Screenshot taken at ${shot.taken_at ? fmtTimeSeconds(Date.parse(shot.taken_at), st.zone) : segLabel(st, s)}` });
          const cached = st.thumbs.get(sid);
          if (typeof cached === 'string') img.src = cached; // the thumbnail until the full image arrives
          imgBox.append(img);
          apiBlob(shot.url).then((b) => {
            if (current !== sid || !dlg.open) return;
            fullUrl = URL.createObjectURL(b);
            img.src = fullUrl;
          }).catch(() => imgBox.replaceChildren(h('p.muted', 'The screenshot could not be loaded.')));
        } else {
          imgBox.append(h('p.viewer-noimage', s.manual ? 'Manual time has no screenshot.'
            : shot.status === 'disabled' ? 'Screenshots are off for this contract.'
              : `No screenshot${shot.reason ? `: ${shot.reason}` : '.'}`));
        }
        const byActive = isActiveSeconds(s);
        const rows = s.minutes.map((m, i) => h('tr', { class: m.tracked_s === 0 ? 'row-off' : '' },
          h('th', { scope: 'row' }, fmtTime(t0 + (i * segS * 1000) / 10, st.zone)),
          h('td', m.tracked_s ? `${m.tracked_s} s` : '—'),
          byActive ? h('td', m.tracked_s ? `${m.active_s} active second${m.active_s === 1 ? '' : 's'}` : '—')
            : [h('td', String(m.keys)),
              h('td', String(m.mouse)),
              h('td', { class: m.synthetic ? 'text-warn' : '' }, String(m.synthetic))],
          h('td', h('span.bar', { class: minuteHasInput(s, m) ? 'on' : m.tracked_s > 0 ? 'idle' : '', 'aria-label': minuteHasInput(s, m) ? 'active' : m.tracked_s ? 'no input' : 'not tracked' }))));
        const head = byActive
          ? [h('th', { scope: 'col' }, 'Active')]
          : [h('th', { scope: 'col' }, 'Keys'), h('th', { scope: 'col' }, 'Mouse'), h('th', { scope: 'col' }, 'Synthetic')];
        const isLocked = locked(st, s);
        const act = (label, fn, cls = '') => h(`button.btn${cls}`, {
          type: 'button', onclick: () => { close(); st.selected.clear(); st.selected.add(sid); renderDay(st); fn(st); },
        }, label);
        const actions = st.isClient ? [act('Edit tags', editSegments)]
          : [act('Edit memo & tags', editSegments), act('Delete…', deleteSegments, '.btn-danger-quiet')];
        clear(body).append(
          h('div.viewer-head',
            h('div',
              h('h2', { id: 'viewer-title' }, `${fmtDate(st.date, 'short')}, ${segLabel(st, s)}`),
              h('p.muted', shot.taken_at ? `Screenshot at ${fmtTimeSeconds(Date.parse(shot.taken_at), st.zone)} · ` : '',
                `${fmtLong(s.tracked_s)} tracked · activity ${s.activity} of 10${byActive ? ` · ${activeTotal(s)} active seconds` : ''} · ${s.device_id}`)),
            h('div.viewer-nav',
              h('button.btn.icon-btn', { type: 'button', 'aria-label': 'Previous segment', disabled: !prev, onclick: () => prev && show(prev.id) }, '‹'),
              h('span.muted', `${idx + 1} / ${st.segs.length}`),
              h('button.btn.icon-btn', { type: 'button', 'aria-label': 'Next segment', disabled: !next, onclick: () => next && show(next.id) }, '›'),
              h('button.btn.icon-btn', { type: 'button', 'aria-label': 'Close', onclick: () => close() }, '×'))),
          h('div.viewer-main',
            imgBox,
            h('aside.viewer-side',
              h('h3', 'Memo'), h('p', s.memo || h('span.muted', 'No memo')),
              h('h3', 'Tags'), s.tags && s.tags.length ? h('ul.tags', s.tags.map((t) => h('li.tag', t))) : h('p.muted', 'None'),
              (s.flags || []).length ? [h('h3', 'Flags'), h('div.seg-flags', s.flags.map(flagPill))] : null,
              h('h3', 'Minute by minute'),
              h('div.table-wrap', h('table.minutes',
                h('caption.visually-hidden', byActive ? 'Active seconds per minute' : 'Input counts per minute'),
                h('thead', h('tr', h('th', { scope: 'col' }, 'Minute'), h('th', { scope: 'col' }, 'Tracked'), head,
                  h('th', { scope: 'col' }, h('span.visually-hidden', 'Activity')))),
                h('tbody', rows))),
              byActive
                ? h('p.muted.small', 'Active seconds: the seconds with any input. This desktop (Wayland) gives no key or mouse counts, and synthetic input cannot be told apart. Which keys and where the mouse went are never recorded.')
                : h('p.muted.small', 'Counts only: which keys and where the mouse went are never recorded.'),
              isLocked ? h('p.notice.notice-lock.small', 'This week is locked: this segment can no longer be changed.')
                : h('div.viewer-actions', actions))));
      };
      dlg.addEventListener('keydown', (ev) => {
        if (ev.target.closest('button') && (ev.key === 'Enter' || ev.key === ' ')) return;
        const s = st.byId.get(current);
        const idx = st.segs.indexOf(s);
        if (ev.key === 'ArrowRight' && st.segs[idx + 1]) { ev.preventDefault(); show(st.segs[idx + 1].id); }
        if (ev.key === 'ArrowLeft' && st.segs[idx - 1]) { ev.preventDefault(); show(st.segs[idx - 1].id); }
      });
      dlg.addEventListener('close', () => {
        if (fullUrl) URL.revokeObjectURL(fullUrl);
        const cell = st.els.grid.querySelector(`.seg[data-id="${CSS.escape(current)}"]`);
        if (cell) focusCell(st, cell);
      });
      show(id);
      return body;
    },
  });
}

