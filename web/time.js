// Time, zones and formats. Instants are milliseconds since the epoch; dates
// are "YYYY-MM-DD" strings of a calendar day in some zone; weeks are ISO
// weeks in UTC, as the server cuts them. Zones go through Intl only, so any
// IANA name the browser knows works, DST included.

const partsCache = new Map();

function partsFormat(tz) {
  let f = partsCache.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    partsCache.set(tz, f);
  }
  return f;
}

/** The wall-clock fields of an instant in a zone. */
export function zoneParts(ms, tz) {
  const o = {};
  for (const p of partsFormat(tz).formatToParts(new Date(ms))) o[p.type] = p.value;
  return { y: +o.year, m: +o.month, d: +o.day, hh: +o.hour % 24, mm: +o.minute, ss: +o.second };
}

/** The zone's offset from UTC at an instant, in milliseconds. */
export function offsetMs(ms, tz) {
  const p = zoneParts(ms, tz);
  const wall = Date.UTC(p.y, p.m - 1, p.d, p.hh, p.mm, p.ss);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant a wall-clock time of a zone names (the earlier one across a DST overlap). */
export function zonedToUtc(date, time, tz) {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let t = wall - offsetMs(wall, tz);
  t = wall - offsetMs(t, tz);
  return t;
}

export function dateInZone(ms, tz) {
  const p = zoneParts(ms, tz);
  return `${p.y}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

export function isDate(s) {
  return /^\d{4}-\d{2}-\d{2}$/.test(s || '') && !Number.isNaN(Date.parse(s + 'T00:00:00Z'));
}

export function addDays(date, n) {
  const t = Date.parse(date + 'T00:00:00Z') + n * 86400000;
  return new Date(t).toISOString().slice(0, 10);
}

const WEEK_MS = 7 * 86400000;

/** Monday 00:00 UTC of the week holding an instant. */
export function weekStartUtc(ms) {
  const day = Math.floor(ms / 86400000);
  const dow = (day + 3) % 7; // 1970-01-01 was a Thursday; Monday is 0
  return (day - dow) * 86400000;
}

/** When the week holding an instant locks: Monday 12:00 UTC after it. */
export function weekLockAt(ms) {
  return weekStartUtc(ms) + WEEK_MS + 12 * 3600000;
}

/** The ISO week ("2026-W45") of a UTC instant. */
export function isoWeek(ms) {
  const thursday = weekStartUtc(ms) + 3 * 86400000;
  const year = new Date(thursday).getUTCFullYear();
  const jan4 = Date.UTC(year, 0, 4);
  const week = Math.round((thursday - weekStartUtc(jan4) - 3 * 86400000) / WEEK_MS) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Monday 00:00 UTC of an ISO week ("2026-W45"), or NaN. */
export function isoWeekStart(week) {
  const m = /^(\d{4})-W(\d{2})$/.exec(week || '');
  if (!m) return NaN;
  const jan4 = Date.UTC(+m[1], 0, 4);
  return weekStartUtc(jan4) + (+m[2] - 1) * WEEK_MS;
}

export function shiftWeek(week, n) {
  return isoWeek(isoWeekStart(week) + n * WEEK_MS);
}

// ---- Formats (the browser's locale) --------------------------------------

const fmtCache = new Map();
function cached(key, make) {
  let f = fmtCache.get(key);
  if (!f) fmtCache.set(key, (f = make()));
  return f;
}

export function fmtTime(ms, tz) {
  return cached('t' + tz, () => new Intl.DateTimeFormat(undefined,
    { timeZone: tz, hour: 'numeric', minute: '2-digit' })).format(new Date(ms));
}

export function fmtTimeSeconds(ms, tz) {
  return cached('ts' + tz, () => new Intl.DateTimeFormat(undefined,
    { timeZone: tz, hour: 'numeric', minute: '2-digit', second: '2-digit' })).format(new Date(ms));
}

/** A calendar date ("2026-11-04") in words: "Wednesday, 4 November 2026". */
export function fmtDate(date, style = 'long') {
  const opts = style === 'long'
    ? { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }
    : { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' };
  return cached('d' + style, () => new Intl.DateTimeFormat(undefined, opts))
    .format(new Date(date + 'T12:00:00Z'));
}

export function fmtDateTime(ms, tz) {
  return cached('dt' + tz, () => new Intl.DateTimeFormat(undefined, {
    timeZone: tz, weekday: 'short', day: 'numeric', month: 'short', hour: 'numeric',
    minute: '2-digit', timeZoneName: 'short',
  })).format(new Date(ms));
}

/** "3:05" (hours:minutes), the Work Diary's way of adding up time. */
export function fmtHM(s) {
  const m = Math.floor(Math.max(0, s) / 60);
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
}

/** "2 h 5 min", "9 min 30 s": exact, for confirmations. */
export function fmtLong(s) {
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const out = [];
  if (h) out.push(`${h} h`);
  if (m) out.push(`${m} min`);
  if (sec || !out.length) out.push(`${sec} s`);
  return out.join(' ');
}

export function fmtMoney(cents, currency) {
  return cached('m' + currency, () => new Intl.NumberFormat(undefined,
    { style: 'currency', currency })).format((cents || 0) / 100);
}

export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** A short name for a zone at an instant: "CET", "GMT+5:30". */
export function zoneAbbrev(ms, tz) {
  const f = cached('z' + tz, () => new Intl.DateTimeFormat('en-US',
    { timeZone: tz, timeZoneName: 'short' }));
  const p = f.formatToParts(new Date(ms)).find((x) => x.type === 'timeZoneName');
  return p ? p.value : tz;
}
