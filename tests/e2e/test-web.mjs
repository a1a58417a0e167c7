// End-to-end tests of the web app: a real stintd (test clock, temporary data
// dir, free loopback port) whose data is made through the API, and Debian's
// chromium driven headless by playwright-core. Prints TAP. Page screenshots
// (360 and 1920 px wide) go to $STINT_BUILD_ROOT/e2e-shots/.
//
// Run: node tests/e2e/test-web.mjs [name-filter]   (after `npm ci` and a build)

import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRC = process.env.STINT_SOURCE_ROOT || path.resolve(HERE, '..', '..');
const BUILD = process.env.STINT_BUILD_ROOT || path.join(SRC, 'build-test');
const STINTD = path.join(BUILD, 'server', 'stintd');
const SHOTS = path.join(BUILD, 'e2e-shots');
const CHROMIUM = process.env.STINT_CHROMIUM || '/usr/bin/chromium';
const CHROME_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

// ---- TAP ---------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}
function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

// ---- The server ---------------------------------------------------------------

const W = {}; // the world: server, people, contracts, segments, browser

async function startServer() {
  W.data = fs.mkdtempSync(path.join(os.tmpdir(), 'stint-e2e-'));
  execFileSync(STINTD, ['--data', W.data, 'admin', 'add', '--email', 'admin@e2e.test', '--name', 'Admin', '--password-stdin'],
    { input: 'admin password 1\n', stdio: ['pipe', 'ignore', 'inherit'] });
  W.proc = spawn(STINTD, ['--listen', '127.0.0.1:0', '--data', W.data, '--test-clock', '--threads', '4',
    '--log-level', 'warn', '--web-dir', path.join(SRC, 'web')], { stdio: ['ignore', 'pipe', 'pipe'] });
  W.stderr = '';
  W.proc.stderr.on('data', (d) => { W.stderr += d; });
  W.base = await new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`stintd did not start: ${W.stderr}`)), 20000);
    W.proc.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    W.proc.on('exit', (code) => reject(new Error(`stintd exited ${code}: ${W.stderr}`)));
  });
}

async function api(method, p, body, token, raw) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
  if (raw) headers['Content-Type'] = 'image/jpeg';
  const r = await fetch(W.base + '/api/v1' + p, { method, headers, body: raw || (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, json, text, headers: r.headers };
}

async function ok(method, p, body, token, raw) {
  const r = await api(method, p, body, token, raw);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

const setClock = (iso) => ok('POST', '/admin/clock', { now: iso }, W.admin);

async function person(role, name, email, timezone) {
  const password = 'a long e2e password';
  await ok('POST', '/signup', { email, password, name, role, timezone });
  const r = await ok('POST', '/login', { email, password });
  return { token: r.token, id: r.user.id, email, password, name };
}

/** A fake desktop rendered by the browser itself, as the screenshot's JPEG bytes. */
async function desktopJpeg(page, n, label) {
  const hue = (n * 37) % 360;
  await page.setContent(`<body style="margin:0;width:1280px;height:800px;background:linear-gradient(135deg,hsl(${hue} 45% 35%),hsl(${(hue + 60) % 360} 45% 25%));font:16px sans-serif">
    <div style="position:absolute;left:${60 + (n % 5) * 20}px;top:60px;width:700px;height:520px;background:#1e2430;color:#9fd49f;padding:20px;box-sizing:border-box;border-radius:6px">
      <div style="color:#fff;margin-bottom:12px">editor — ${label}</div>
      ${Array.from({ length: 18 }, (_, i) => `<div style="height:10px;margin:8px 0;width:${40 + ((i * 53 + n * 17) % 55)}%;background:#7fbf8f"></div>`).join('')}
    </div>
    <div style="position:absolute;right:60px;top:${120 + (n % 4) * 15}px;width:420px;height:420px;background:#f4f4f4;border-radius:6px"></div>
  </body>`);
  return page.screenshot({ type: 'jpeg', quality: 70, clip: { x: 0, y: 0, width: 1280, height: 800 } });
}

async function upload(shotPage, contractId, token, startIso, n, opts = {}) {
  const id = randomUUID();
  const t0 = Date.parse(startIso);
  const minutes = Array.from({ length: 10 }, (_, i) => {
    const quiet = ((n + i) * 7) % 10 === 0; // about one quiet minute in ten
    const keys = quiet ? 0 : 10 + ((n * 31 + i * 17) % 80);
    const mouse = quiet ? 0 : 20 + ((n * 13 + i * 29) % 120);
    return { tracked_s: 60, keys, mouse, synthetic: opts.synthetic ? Math.ceil((keys + mouse) * 0.8) : 0 };
  });
  const status = opts.shotFailed ? 'failed' : 'ok';
  const body = {
    id, contract_id: contractId, device_id: 'e2e-laptop', start: startIso, minutes,
    memo: opts.memo ?? 'Hero section layout', tags: opts.tags || ['design'], flags: opts.flags || [],
    screenshot: { taken_at: new Date(t0 + 180000 + (n % 5) * 60000).toISOString().replace('.000Z', 'Z'), status },
  };
  if (opts.shotFailed) body.screenshot.reason = 'the capture returned a blank frame';
  await ok('PUT', `/segments/${id}`, body, token);
  if (!opts.shotFailed) {
    const jpeg = await desktopJpeg(shotPage, n, startIso);
    await ok('PUT', `/segments/${id}/screenshot`, undefined, token, jpeg);
  }
  return id;
}

const slot = (day, h, m) => `${day}T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00Z`;

async function buildWorld(browser) {
  const shotCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const shotPage = await shotCtx.newPage();
  W.admin = (await ok('POST', '/login', { email: 'admin@e2e.test', password: 'admin password 1' })).token;

  // Week 2026-W45 starts Monday 2 November; W46 on the 9th.
  await setClock('2026-11-02T07:00:00Z');
  W.client = await person('client', 'Carla Client', 'carla@e2e.test', 'America/New_York');
  W.fl = await person('freelancer', 'Fred Freelancer', 'fred@e2e.test', 'Europe/Berlin');
  W.stranger = await person('client', 'Sam Stranger', 'sam@e2e.test', 'UTC');
  await ok('POST', `/admin/users/${W.fl.id}/verify`, {}, W.admin);
  await ok('POST', `/admin/users/${W.client.id}/billing`, { state: 'verified' }, W.admin);
  const offer = async (terms) => {
    const c = (await ok('POST', '/contracts', { freelancer_email: W.fl.email, currency: 'USD', ...terms }, W.client.token)).contract;
    await ok('POST', `/contracts/${c.id}/accept`, undefined, W.fl.token);
    return c;
  };
  W.A = await offer({ title: 'Landing page redesign', hourly_rate_cents: 4500, weekly_limit_s: 7200, tags: ['design', 'development', 'meeting'] });
  W.B = await offer({ title: 'API documentation', hourly_rate_cents: 3000, weekly_limit_s: 36000, tags: ['writing'] });

  // W45, Wednesday 4 November: two hours on A (with the flags), one on B.
  await setClock('2026-11-04T18:00:00Z');
  W.w45 = [];
  for (let i = 0; i < 12; i++) {
    const opts = {
      memo: ['Wireframes for the hero section', 'Navigation and footer', 'Hero section copy review'][Math.floor(i / 4)],
      flags: i === 3 ? ['idle_kept'] : [], synthetic: i === 5, shotFailed: i === 7,
    };
    if (i === 9) opts.memo = '';
    W.w45.push(await upload(shotPage, W.A.id, W.fl.token, slot('2026-11-04', 8 + Math.floor(i / 6), (i % 6) * 10), i, opts));
  }
  for (let i = 0; i < 6; i++) {
    await upload(shotPage, W.B.id, W.fl.token, slot('2026-11-04', 11, i * 10), 20 + i, { memo: 'Endpoint reference', tags: ['writing'] });
  }

  // W46, Tuesday 10 November at 15:00 UTC: W45 is locked and in review;
  // three hours on A against its two-hour limit.
  await setClock('2026-11-10T15:00:00Z');
  W.w46 = [];
  for (let i = 0; i < 18; i++) {
    W.w46.push(await upload(shotPage, W.A.id, W.fl.token, slot('2026-11-10', 8 + Math.floor(i / 6), (i % 6) * 10), 40 + i,
      { memo: i < 12 ? 'Responsive layout' : 'Accessibility fixes', tags: i < 12 ? ['development'] : ['design'] }));
  }
  W.shotPage = shotPage;
  W.shotCtx = shotCtx;
}

// ---- The browser ------------------------------------------------------------------

const consoleProblems = []; // [context name, text]
const expectedNetwork = []; // statuses the tests provoke on purpose

async function newSession(name, { width = 1920, height = 1080, timezoneId = 'UTC', pollSeconds = 1 } = {}) {
  const ctx = await W.browser.newContext({ viewport: { width, height }, locale: 'en-US', timezoneId, acceptDownloads: true });
  await ctx.addInitScript((s) => { try { localStorage.setItem('stint.pollSeconds', String(s)); } catch { /* none */ } }, pollSeconds);
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      const text = m.text();
      const net = /Failed to load resource: the server responded with a status of (\d+)/.exec(text);
      if (net && expectedNetwork.includes(+net[1])) return;
      consoleProblems.push(`${name}: ${m.type()}: ${text}`);
    }
  });
  page.on('pageerror', (e) => consoleProblems.push(`${name}: page error: ${e.message}`));
  return { ctx, page };
}

async function signIn(page, who) {
  await page.goto(W.base + '/');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('h1:text("Contracts")');
}

async function shot(page, name, fullPage = false) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

async function noHorizontalScroll(page, what) {
  const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert(sw <= cw + 1, `${what}: the page scrolls sideways (${sw} > ${cw})`);
}

const diaryUrl = (c, date) => `${W.base}/#/contracts/${c.id}/diary/${date}`;

async function openDiary(page, c, date, count) {
  await page.goto(diaryUrl(c, date));
  await page.waitForSelector('.day-summary');
  if (count !== undefined) await page.waitForFunction((n) => document.querySelectorAll('.seg').length === n, count);
}

async function thumbsLoaded(page, n) {
  await page.waitForFunction((k) => [...document.querySelectorAll('.seg-thumb img')].slice(0, k)
    .every((img) => img.complete && img.naturalWidth > 0), n, { timeout: 15000 });
}

// ---- The tests ----------------------------------------------------------------------

test('the app is served with its security headers, and nothing else is', async () => {
  const r = await fetch(W.base + '/');
  eq(r.status, 200, 'GET /');
  assert(r.headers.get('content-type').startsWith('text/html'), 'index.html type');
  const csp = r.headers.get('content-security-policy') || '';
  assert(csp.includes("default-src 'self'") && csp.includes('img-src \'self\' blob: data:') && !csp.includes('unsafe-inline'), `CSP: ${csp}`);
  eq(r.headers.get('cache-control'), 'no-cache', 'static files revalidate');
  const html = await r.text();
  assert(html.includes('app.js') && !/<script>[^<]/.test(html), 'no inline script');
  const js = await fetch(W.base + '/app.js');
  assert(js.headers.get('content-type').startsWith('text/javascript'), 'app.js type');
  const again = await fetch(W.base + '/app.js', { headers: { 'If-None-Match': js.headers.get('etag') } });
  eq(again.status, 304, 'a matching ETag is a 304');
  const api = await fetch(W.base + '/api/v1/health');
  eq(api.headers.get('cache-control'), 'no-store', 'the API is never cached');
  // Raw paths (fetch would normalise them): traversal, encoded or not, hidden and unknown files.
  const raw = (p) => new Promise((resolve, reject) => {
    const u = new URL(W.base);
    http.get({ host: u.hostname, port: u.port, path: p }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
  });
  for (const p of ['/../meson.build', '/%2e%2e/meson.build', '/..%2fmeson.build', '/%2e%2e%2fserver%2fmain.c', '/.gitignore',
    '/web.c', '/README.md', '/app.js/../../meson.build', '/nope.js', '/api', '/index.html%00.js']) {
    const s = await raw(p);
    assert(s === 404 || s === 400, `${p}: ${s}`);
  }
});

test('the freelancer signs in and sees contracts with this week’s hours and limit', async () => {
  W.f = await newSession('freelancer', { timezoneId: 'Asia/Kolkata' });
  const { page } = W.f;
  await page.goto(W.base + '/');
  await page.waitForSelector('.login-card');
  await shot(page, 'login-1920');
  await signIn(page, W.fl);
  await page.waitForSelector('.contract-card');
  const cards = page.locator('.contract-card');
  eq(await cards.count(), 2, 'two contracts');
  const a = cards.filter({ hasText: 'Landing page redesign' });
  const text = await a.innerText();
  assert(text.includes('3:00 hrs') && text.includes('2:00 hrs') && text.includes('Active') && text.includes('Carla Client'), `card A: ${text}`);
  assert(text.includes('1:00 hrs over the limit'), 'the card says what is over the limit');
  await shot(page, 'contracts-1920');
});

test('the freelancer’s diary shows segments, screenshots, activity, flags and totals', async () => {
  const { page } = W.f;
  await page.locator('.contract-card', { hasText: 'Landing page redesign' }).getByRole('link', { name: 'Work Diary' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.seg').length === 18);
  assert(page.url().endsWith('/diary/2026-11-10'), `today in the freelancer's zone: ${page.url()}`);
  await thumbsLoaded(page, 6);
  eq(await page.locator('.hour-row').count(), 3, 'three hourly rows');
  eq(await page.locator('.seg .flag-over_limit').count(), 6, 'the last hour is over the two-hour limit');
  eq(await page.locator('.seg').first().locator('.bar').count(), 10, 'ten activity bars');
  const totals = await page.locator('.day-totals').innerText();
  assert(totals.includes('3:00') && totals.includes('Over limit'), `totals: ${totals}`);
  eq(await page.locator('.legend-list .flag').count(), 7, 'the legend explains every flag');
  assert((await page.locator('.week-line').innerText()).includes('2026-W46'), 'the week line');
  await shot(page, 'diary-freelancer-1920');
});

test('the time-zone switch shows UTC, mine and the freelancer’s hours', async () => {
  const { page } = W.f;
  const firstRow = () => page.locator('.hour-time').first().innerText();
  eq(await firstRow(), '9:00 AM', 'Europe/Berlin (the freelancer’s zone) by default');
  await page.locator('.seg-option input[value=utc]').check();
  await page.waitForFunction(() => document.querySelector('.hour-time')?.textContent === '8:00 AM');
  assert((await page.locator('.zone-note').innerText()).includes('UTC'), 'zone note');
  await page.getByRole('radio', { name: /Mine/ }).check();
  // Asia/Kolkata is UTC+5:30: 08:00 UTC is 13:30, in the 1 PM row's fourth place.
  await page.waitForFunction(() => document.querySelector('.hour-time')?.textContent === '1:00 PM');
  eq(await page.locator('.hour-row').first().locator('.slot-empty').count(), 3, 'half an hour empty before 13:30');
  await page.getByRole('radio', { name: /My profile/ }).check();
  await page.waitForFunction(() => document.querySelector('.hour-time')?.textContent === '9:00 AM');
});

test('the screenshot viewer and the keyboard', async () => {
  const { page } = W.f;
  const ids = await page.locator('.seg').evaluateAll((els) => els.map((e) => e.dataset.id));
  await page.locator('.seg').first().focus();
  await page.keyboard.press('ArrowRight');
  eq(await page.evaluate(() => document.activeElement.dataset.id), ids[1], 'ArrowRight moves to the next segment');
  await page.keyboard.press('ArrowDown');
  const below = await page.evaluate(() => document.activeElement.dataset.id);
  assert(ids.indexOf(below) > 1, 'ArrowDown moves to a later row');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  const viewer = page.locator('dialog.viewer');
  await viewer.waitFor();
  await page.waitForFunction(() => { const i = document.querySelector('dialog.viewer .viewer-image img'); return i && i.complete && i.naturalWidth >= 1280; });
  eq(await viewer.locator('table.minutes tbody tr').count(), 10, 'minute-by-minute counts');
  const title = await viewer.locator('h2').innerText();
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((t) => document.querySelector('dialog.viewer h2').textContent !== t, title);
  await shot(page, 'viewer-1920');
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  await page.keyboard.press(']');
  await page.waitForFunction(() => location.hash.endsWith('/2026-11-11'));
  await page.waitForSelector('.empty-day');
  await page.keyboard.press('[');
  await page.waitForFunction(() => location.hash.endsWith('/2026-11-10') && document.querySelectorAll('.seg').length === 18);
});

test('an active-seconds segment (Wayland) shows active seconds, a counts one its counts', async () => {
  // A session of its own (the client's), so the freelancer's page stays where the next tests expect it.
  const { ctx, page } = await newSession('client-active-seconds', { timezoneId: 'America/New_York' });
  await signIn(page, W.client);
  // On B, Tuesday 10 November 12:00 UTC: one segment from a Wayland laptop, one from X11.
  const active = [42, 60, 0, 45, 10, 0, 0, 0, 0, 0];
  const wid = randomUUID();
  await ok('PUT', `/segments/${wid}`, {
    id: wid, contract_id: W.B.id, device_id: 'wayland-laptop', start: '2026-11-10T12:00:00Z',
    activity_measure: 'active_seconds',
    minutes: active.map((a) => ({ tracked_s: 60, keys: 0, mouse: 0, synthetic: 0, active_s: a })),
    memo: 'Reference pages on Wayland', tags: ['writing'], flags: [],
    screenshot: { taken_at: '2026-11-10T12:04:00Z', status: 'ok' },
  }, W.fl.token);
  await ok('PUT', `/segments/${wid}/screenshot`, undefined, W.fl.token, await desktopJpeg(W.shotPage, 70, 'Wayland'));
  const xid = await upload(W.shotPage, W.B.id, W.fl.token, '2026-11-10T12:10:00Z', 71, { memo: 'Reference pages on X11', tags: ['writing'] });

  await openDiary(page, W.B, '2026-11-10', 2);
  const wseg = page.locator(`.seg[data-id="${wid}"]`);
  const xseg = page.locator(`.seg[data-id="${xid}"]`);
  eq(await wseg.locator('.seg-active').innerText(), '157 active seconds', 'the segment says its active seconds');
  eq(await xseg.locator('.seg-active').count(), 0, 'a counts segment looks as before');
  eq(await wseg.locator('.bar.on').count(), 4, 'four minutes with an active second: four bars');
  eq(await wseg.locator('.bar').first().getAttribute('title'), 'Minute 1: 42 active seconds of 60', 'a bar’s tooltip');
  assert((await wseg.getAttribute('aria-label')).includes('157 active seconds'), 'the label says it too');
  const legend = await page.locator('.legend-active').innerText();
  assert(legend.includes('active seconds') && legend.includes('synthetic input cannot be told apart'), `legend: ${legend}`);
  await shot(page, 'diary-active-seconds-1920');

  await wseg.locator('.seg-thumb').click();
  const viewer = page.locator('dialog.viewer');
  await viewer.waitFor();
  const heads = await viewer.locator('table.minutes thead th').allInnerTexts();
  eq(heads.slice(0, 3), ['Minute', 'Tracked', 'Active'], 'the minute table has active seconds, not counts');
  eq(await viewer.locator('table.minutes tbody tr').first().locator('td').nth(1).innerText(), '42 active seconds', 'minute 1');
  assert((await viewer.innerText()).includes('synthetic input cannot be told apart'), 'the viewer says what cannot be told');
  assert((await viewer.locator('.viewer-head').innerText()).includes('157 active seconds'), 'the viewer head');
  await shot(page, 'viewer-active-seconds-1920');
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });

  await xseg.locator('.seg-thumb').click();
  await viewer.waitFor();
  const xheads = await viewer.locator('table.minutes thead th').allInnerTexts();
  eq(xheads.slice(0, 5), ['Minute', 'Tracked', 'Keys', 'Mouse', 'Synthetic'], 'counts keep their columns');
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  await ctx.close();
});

test('the freelancer edits a memo and tags', async () => {
  const { page } = W.f;
  const id = W.w46[0];
  await page.locator(`.seg[data-id="${id}"] input[type=checkbox]`).check();
  await page.getByRole('button', { name: 'Edit memo & tags' }).click();
  const dlg = page.locator('dialog');
  await dlg.getByLabel('Memo').fill('Hero section, second pass');
  await dlg.getByLabel('meeting').check();
  await dlg.getByRole('button', { name: 'Save' }).click();
  await dlg.waitFor({ state: 'detached' });
  await page.waitForFunction((sid) => document.querySelector(`.seg[data-id="${sid}"] .seg-memo`)?.textContent === 'Hero section, second pass', id);
  const seg = (await ok('GET', `/segments/${id}`, undefined, W.fl.token)).segment;
  eq(seg.memo, 'Hero section, second pass', 'memo saved');
  eq(seg.tags, ['development', 'meeting'], 'tags saved');
});

test('the delete flow states the time removed, then removes it', async () => {
  const { page } = W.f;
  const [a, b] = [W.w46[1], W.w46[2]];
  for (const id of [W.w46[0], a, b]) await page.locator(`.seg[data-id="${id}"] input[type=checkbox]`).setChecked(id !== W.w46[0]);
  assert((await page.locator('.selection-count').innerText()).includes('2 selected · 0:20 hrs'), 'selection count');
  await page.getByRole('button', { name: 'Delete…' }).click();
  const dlg = page.locator('dialog');
  const text = await dlg.innerText();
  assert(text.includes('Delete 2 segments?') && text.includes('removes 20 min of time'), `confirmation: ${text}`);
  await shot(page, 'delete-confirm-1920');
  await dlg.getByRole('button', { name: 'Delete 20 min' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.seg').length === 16);
  const diary = await ok('GET', `/contracts/${W.A.id}/diary?from=2026-11-10`, undefined, W.fl.token);
  eq(diary.segments.length, 16, 'the server has 16 segments left');
  assert(!diary.segments.some((s) => s.id === a || s.id === b), 'the deleted ones are gone');
  eq(diary.days[0].tracked_s, 16 * 600, 'the day total lost 20 minutes');
  assert((await page.locator('.day-totals').innerText()).includes('2:40'), 'the page total too');
  const shotGone = await api('GET', `/segments/${a}/screenshot`, undefined, W.fl.token);
  assert(shotGone.status === 404 || shotGone.status === 410, `the screenshot is destroyed (${shotGone.status})`);
});

test('manual time is added where allowed and flagged', async () => {
  const { page } = W.f;
  await page.getByRole('button', { name: 'Add manual time' }).click();
  const dlg = page.locator('dialog');
  // Berlin 14:00-14:30 is 13:00-13:30 UTC, before the server's 15:00.
  await dlg.getByLabel('From').fill('14:00');
  await dlg.getByLabel('To').fill('14:30');
  await dlg.getByLabel('Memo').fill('Call with the client about the hero');
  await dlg.getByRole('button', { name: 'Add time' }).click();
  await dlg.waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.querySelectorAll('.seg .flag-manual').length === 3);
  const diary = await ok('GET', `/contracts/${W.A.id}/diary?from=2026-11-10`, undefined, W.fl.token);
  eq(diary.days[0].manual_s, 1800, 'half an hour of manual time');
});

test('live updates: a new segment appears without a reload', async () => {
  const { page } = W.f;
  const before = await page.locator('.seg').count();
  W.live = await upload(W.shotPage, W.A.id, W.fl.token, slot('2026-11-10', 14, 30), 90, { memo: 'Live segment', tags: ['design'] });
  await page.waitForSelector(`.seg[data-id="${W.live}"]`, { timeout: 15000 });
  eq(await page.locator('.seg').count(), before + 1, 'one more segment');
  await shot(page, 'diary-freelancer-after-edits-1920', true);
});

test('the client signs in and sees the freelancer’s diary in the freelancer’s zone', async () => {
  W.c = await newSession('client', { timezoneId: 'America/New_York' });
  const { page } = W.c;
  await signIn(page, W.client);
  // The cards come after the heading, all at once, when /contracts has answered.
  await page.waitForSelector('.contract-card');
  eq(await page.locator('.contract-card').count(), 2, 'two contracts');
  await page.locator('.contract-card', { hasText: 'Landing page redesign' }).getByRole('link', { name: 'Work Diary' }).click();
  await page.waitForSelector('.seg');
  assert(page.url().endsWith('/diary/2026-11-10'), `the freelancer's today: ${page.url()}`);
  await page.waitForFunction(() => document.querySelectorAll('.seg').length === 20);
  assert((await page.locator('.seg-option', { hasText: 'Freelancer’s' }).innerText()).includes('Europe/Berlin'), 'the freelancer’s zone is offered');
  eq(await page.locator('.hour-time').first().innerText(), '9:00 AM', 'in Berlin time');
  assert(await page.getByText('Hero section, second pass').isVisible(), 'the freelancer’s memo');
  eq(await page.getByRole('button', { name: 'Edit memo & tags' }).count(), 0, 'a client edits no memo');
  eq(await page.getByRole('button', { name: 'Delete…' }).count(), 0, 'a client deletes nothing');
  eq(await page.getByRole('button', { name: 'Add manual time' }).count(), 0, 'a client adds no time');
  await thumbsLoaded(page, 6);
  await shot(page, 'diary-client-1920');
});

test('the client edits tags', async () => {
  const { page } = W.c;
  const id = W.w46[5];
  await page.locator(`.seg[data-id="${id}"] input[type=checkbox]`).check();
  await page.getByRole('button', { name: 'Edit tags' }).click();
  const dlg = page.locator('dialog');
  eq(await dlg.locator('textarea').count(), 0, 'no memo field for a client');
  await dlg.getByLabel('meeting').check();
  await dlg.getByRole('button', { name: 'Save' }).click();
  await dlg.waitFor({ state: 'detached' });
  const seg = (await ok('GET', `/segments/${id}`, undefined, W.client.token)).segment;
  eq(seg.tags, ['development', 'meeting'], 'tags saved by the client');
  eq(seg.memo, 'Responsive layout', 'memo untouched');
});

test('the client reviews the locked week’s timesheet with its protection reasons', async () => {
  const { page } = W.c;
  await page.goto(`${W.base}/#/contracts/${W.A.id}/timesheet/2026-W45`);
  await page.waitForSelector('.sheet-state');
  const state = await page.locator('.sheet-state').innerText();
  assert(state.includes('In review'), `state: ${state}`);
  const reasons = await page.locator('table.reasons').innerText();
  for (const r of ['idle time kept', 'unusual input', 'no screenshot', 'no memo']) assert(reasons.includes(r), `reason '${r}' in ${reasons}`);
  assert(await page.getByRole('button', { name: 'Approve timesheet' }).isVisible(), 'approve is offered');
  await shot(page, 'timesheet-client-1920', true);
});

test('the dispute flow: the client disputes selected segments', async () => {
  const { page } = W.c;
  await openDiary(page, W.A, '2026-11-04', 12);
  assert((await page.locator('.notice-lock').innerText()).includes('This week is locked'), 'the lock is said');
  const ids = [W.w45[0], W.w45[1]];
  for (const id of ids) await page.locator(`.seg[data-id="${id}"] input[type=checkbox]`).check();
  await page.getByRole('button', { name: 'Dispute…' }).click();
  const dlg = page.locator('dialog');
  assert((await dlg.innerText()).includes('20 min of billed time in 2026-W45'), 'the dispute says what it covers');
  await dlg.getByLabel('Reason').fill('The screenshots show a video site, not the design work.');
  await shot(page, 'dispute-dialog-1920');
  await dlg.getByRole('button', { name: 'File dispute' }).click();
  await dlg.waitFor({ state: 'detached' });
  await page.waitForSelector('.notice-success');
  const disputes = (await ok('GET', '/disputes', undefined, W.client.token)).disputes;
  eq(disputes.length, 1, 'one dispute');
  eq(disputes[0].segment_ids.slice().sort(), ids.slice().sort(), 'the selected segments');
  eq((await ok('GET', `/contracts/${W.A.id}`, undefined, W.client.token)).contract.state, 'paused', 'the contract is paused');
});

test('the client approves another week’s timesheet', async () => {
  const { page } = W.c;
  await page.goto(`${W.base}/#/contracts/${W.B.id}/timesheet/2026-W45`);
  await page.getByRole('button', { name: 'Approve timesheet' }).click();
  await page.locator('dialog').getByRole('button', { name: 'Approve timesheet' }).click();
  await page.waitForFunction(() => document.querySelector('.sheet-state')?.textContent.includes('Approved'));
  const ts = (await ok('GET', `/contracts/${W.B.id}/timesheets?week=2026-W45`, undefined, W.client.token)).timesheet;
  eq(ts.state, 'approved', 'approved on the server');
});

test('invoices list with PDF and CSV downloads', async () => {
  const { page } = W.c;
  await page.getByRole('link', { name: 'Invoices' }).click();
  await page.waitForSelector('table.invoices');
  eq(await page.locator('table.invoices tbody tr').count(), 2, 'two invoices for W45');
  await shot(page, 'invoices-client-1920');
  const row = page.locator('table.invoices tbody tr', { hasText: 'API documentation' });
  const [pdf] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: /PDF/ }).click()]);
  const pdfBytes = fs.readFileSync(await pdf.path());
  eq(pdfBytes.subarray(0, 5).toString(), '%PDF-', 'a PDF');
  const [csv] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: /CSV/ }).click()]);
  const csvText = fs.readFileSync(await csv.path(), 'utf8');
  assert(csvText.split('\n').length > 7 && /total/i.test(csvText), `a CSV: ${csvText.slice(0, 200)}`);
  assert(/\.csv$/.test(csv.suggestedFilename()) && /\.pdf$/.test(pdf.suggestedFilename()), 'file names');
});

test('the lock: the freelancer’s edits of a locked week are refused with a clear message', async () => {
  const { page } = W.f;
  await openDiary(page, W.A, '2026-11-04', 12);
  assert((await page.locator('.notice-lock').innerText()).includes('This week is locked'), 'the lock is said up front');
  await page.locator(`.seg[data-id="${W.w45[4]}"] input[type=checkbox]`).check();
  await page.getByRole('button', { name: 'Delete…' }).click();
  await page.waitForFunction(() => document.querySelector('.notice-area[role=alert]')?.textContent.includes('you can no longer delete its time'));
  eq(await page.locator('dialog').count(), 0, 'no confirmation for a refused delete');
  await shot(page, 'locked-week-freelancer-1920');

  // The week locks while the page is open: the server's 409 says so.
  await page.evaluate(() => localStorage.setItem('stint.pollSeconds', '3600'));
  await openDiary(page, W.A, '2026-11-10', 20);
  expectedNetwork.push(409);
  await setClock('2026-11-16T13:00:00Z');
  await page.locator(`.seg[data-id="${W.w46[3]}"] input[type=checkbox]`).check();
  await page.getByRole('button', { name: 'Edit memo & tags' }).click();
  const dlg = page.locator('dialog');
  await dlg.getByLabel('Memo').fill('Too late');
  await dlg.getByRole('button', { name: 'Save' }).click();
  const err = dlg.locator('.form-error');
  await err.waitFor();
  assert((await err.innerText()).includes('This week is locked, so you can no longer edit its memos and tags'), 'the 409 in words');
  await shot(page, 'locked-edit-refused-1920');
  await dlg.getByRole('button', { name: 'Cancel' }).click();
  const seg = (await ok('GET', `/segments/${W.w46[3]}`, undefined, W.fl.token)).segment;
  eq(seg.memo, 'Responsive layout', 'nothing changed');
  await page.evaluate(() => localStorage.setItem('stint.pollSeconds', '1'));
});

test('a stranger sees nothing of the contracts', async () => {
  W.s = await newSession('stranger');
  const { page } = W.s;
  await signIn(page, W.stranger);
  await page.waitForSelector('.empty');
  assert((await page.locator('main').innerText()).includes('No contracts yet'), 'an empty list');
  expectedNetwork.push(404);
  await page.goto(diaryUrl(W.A, '2026-11-10'));
  await page.waitForSelector('h1:text("Contract not found")');
  const text = await page.locator('main').innerText();
  assert(!text.includes('Landing page') && !text.includes('Responsive layout') && !text.includes('Fred'), 'no trace of the contract');
  eq(await page.locator('.seg').count(), 0, 'no segments');
  await shot(page, 'stranger-1920');
  await page.goto(`${W.base}/#/contracts/${W.A.id}/timesheet/2026-W45`);
  await page.waitForSelector('h1:text("Contract not found")');
  const s = await api('GET', `/segments/${W.w46[4]}/screenshot?size=thumb`, undefined, W.stranger.token);
  eq(s.status, 404, 'no screenshot either');
});

test('pages work at 360 px wide', async () => {
  const m = await newSession('freelancer-360', { width: 360, height: 780, timezoneId: 'Europe/Berlin' });
  const { page } = m;
  await page.goto(W.base + '/');
  await page.waitForSelector('.login-card');
  await noHorizontalScroll(page, 'login');
  await shot(page, 'login-360');
  await signIn(page, W.fl);
  await page.waitForSelector('.contract-card');
  await noHorizontalScroll(page, 'contracts');
  await shot(page, 'contracts-360', true);
  await openDiary(page, W.A, '2026-11-10', 20);
  await page.locator('.seg').first().scrollIntoViewIfNeeded();
  await thumbsLoaded(page, 2);
  await noHorizontalScroll(page, 'diary');
  await shot(page, 'diary-360');
  await shot(page, 'diary-360-full', true);
  await page.locator('.seg-thumb').first().click();
  await page.locator('dialog.viewer').waitFor();
  await noHorizontalScroll(page, 'viewer');
  await shot(page, 'viewer-360');
  await page.keyboard.press('Escape');
  await page.goto(`${W.base}/#/contracts/${W.A.id}/timesheet/2026-W45`);
  await page.waitForSelector('.sheet-state');
  await noHorizontalScroll(page, 'timesheet');
  await shot(page, 'timesheet-360', true);
  await page.goto(`${W.base}/#/invoices`);
  await page.waitForSelector('table.invoices');
  await noHorizontalScroll(page, 'invoices');
  await shot(page, 'invoices-360', true);
  await m.ctx.close();
});

test('signing out revokes the session', async () => {
  const { page } = W.c;
  const token = await page.evaluate(() => sessionStorage.getItem('stint.token'));
  assert(token && token.startsWith('st_'), 'the token is in sessionStorage');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForSelector('.login-card');
  eq(await page.evaluate(() => sessionStorage.getItem('stint.token')), null, 'the token is gone');
  eq((await api('GET', '/me', undefined, token)).status, 401, 'and revoked on the server');
  await page.goto(diaryUrl(W.A, '2026-11-10'));
  await page.waitForSelector('.login-card');
});

test('no console errors on any page', async () => {
  eq(consoleProblems, [], 'console errors and warnings');
});

// ---- Main ------------------------------------------------------------------------------

async function main() {
  const filter = process.argv[2];
  const run = tests.filter((t) => !filter || t.name.includes(filter) || tests.indexOf(t) < 2);
  console.log(`1..${run.length}`);
  let failed = 0;
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install chromium)`);
    if (!fs.existsSync(STINTD)) throw new Error(`no stintd at ${STINTD} (build first)`);
    await startServer();
    // launch() gives the browser a fresh, temporary user-data dir of its own
    // (it refuses --user-data-dir), deleted when the browser closes.
    W.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
    await buildWorld(W.browser);
  } catch (e) {
    console.log(`Bail out! setup failed: ${e.stack || e}`);
    await teardown();
    process.exit(1);
  }
  let i = 0;
  for (const t of run) {
    i += 1;
    const t0 = Date.now();
    try {
      await t.fn();
      console.log(`ok ${i} - ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed += 1;
      console.log(`not ok ${i} - ${t.name}`);
      for (const line of String(e.stack || e).split('\n')) console.log(`# ${line}`);
    }
  }
  await teardown();
  process.exit(failed ? 1 : 0);
}

async function teardown() {
  try { if (W.browser) await W.browser.close(); } catch { /* closing anyway */ }
  if (W.proc && W.proc.exitCode === null) {
    W.proc.kill('SIGTERM');
    await new Promise((r) => { const t = setTimeout(() => { W.proc.kill('SIGKILL'); r(); }, 10000); W.proc.on('exit', () => { clearTimeout(t); r(); }); });
  }
  if (W.data) fs.rmSync(W.data, { recursive: true, force: true });
}

main();
