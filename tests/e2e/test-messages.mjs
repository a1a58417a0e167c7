// End-to-end tests of the web app's Messages page: a real stintd (temporary
// data dir, free loopback port), a client and a freelancer with a contract
// made through the API, and two browser contexts of Debian's chromium, one
// each, driven by playwright-core. Prints TAP. Screenshots (1920 and 360 px
// wide) go to $STINT_BUILD_ROOT/e2e-shots/messages-*.png.
//
// Run: node tests/e2e/test-messages.mjs [name-filter]   (after `npm ci` and a build)

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
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
const WAIT = { timeout: 15000 };

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

const W = {}; // the world: server, people, the contract, browser sessions

async function startServer() {
  W.data = fs.mkdtempSync(path.join(os.tmpdir(), 'stint-e2e-msg-'));
  execFileSync(STINTD, ['--data', W.data, 'admin', 'add', '--email', 'admin@e2e.test', '--name', 'Admin', '--password-stdin'],
    { input: 'admin password 1\n', stdio: ['pipe', 'ignore', 'inherit'] });
  W.proc = spawn(STINTD, ['--listen', '127.0.0.1:0', '--data', W.data, '--threads', '4',
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

async function api(method, p, body, token) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(W.base + '/api/v1' + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

async function ok(method, p, body, token) {
  const r = await api(method, p, body, token);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

async function person(role, name, email) {
  const password = 'a long e2e password';
  await ok('POST', '/signup', { email, password, name, role, timezone: 'UTC' });
  const r = await ok('POST', '/login', { email, password });
  return { token: r.token, id: r.user.id, email, password, name };
}

async function buildWorld() {
  W.client = await person('client', 'Carla Client', 'carla@e2e.test');
  W.fl = await person('freelancer', 'Fred Freelancer', 'fred@e2e.test');
  W.stranger = await person('client', 'Sam Stranger', 'sam@e2e.test');
  const c = (await ok('POST', '/contracts', {
    freelancer_email: W.fl.email, currency: 'USD', title: 'Landing page redesign', hourly_rate_cents: 4500, weekly_limit_s: 36000,
  }, W.client.token)).contract;
  await ok('POST', `/contracts/${c.id}/accept`, undefined, W.fl.token);
  W.contract = c;
  W.room = `c-${c.id}`;
}

// ---- The browser ------------------------------------------------------------------

const consoleProblems = [];
const dialogs = []; // any alert() that fires is a failed escape

async function newSession(name, { width = 1920, height = 1080 } = {}) {
  const ctx = await W.browser.newContext({ viewport: { width, height }, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleProblems.push(`${name}: ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleProblems.push(`${name}: page error: ${e.message}`));
  page.on('dialog', (d) => {
    dialogs.push(`${name}: ${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
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
  await page.waitForTimeout(150); // let the last frame paint
  await page.screenshot({ path: path.join(SHOTS, `messages-${name}.png`), fullPage });
}

async function noHorizontalScroll(page, what) {
  const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert(sw <= cw + 1, `${what}: the page scrolls sideways (${sw} > ${cw})`);
}

/** The texts of the thread's messages, oldest first, as shown. */
function threadTexts(page) {
  return page.$$eval('.msg-list .msg', (els) => els.map((e) => {
    const t = e.querySelector('.msg-text, .msg-edit');
    return t ? (t.value ?? t.textContent) : '';
  }));
}

async function waitForText(page, text) {
  await page.waitForFunction((t) => [...document.querySelectorAll('.msg-list .msg-text')].some((e) => e.textContent === t), text, WAIT);
}

async function send(page, text) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await page.waitForFunction(() => document.querySelector('.composer-input').value === '', null, WAIT);
}

const roomItem = (page, id) => page.locator(`.room-item[data-room="${id}"]`);
const threadUrl = (id) => `${W.base}/#/messages/${encodeURIComponent(id)}`;

// ---- The tests ----------------------------------------------------------------------

test('the contract’s room is listed for both parties, and the page has a nav entry', async () => {
  W.a = await newSession('client');
  W.b = await newSession('freelancer');
  await signIn(W.a.page, W.client);
  await signIn(W.b.page, W.fl);
  for (const { page } of [W.a, W.b]) {
    await page.getByRole('link', { name: 'Messages' }).click();
    await roomItem(page, W.room).waitFor(WAIT);
    eq(await roomItem(page, W.room).locator('.room-title').innerText(), 'Landing page redesign', 'the room has the contract’s title');
  }
  assert((await roomItem(W.b.page, W.room).innerText()).includes('Carla Client'), 'the freelancer sees who the room is with');
  await W.a.page.getByRole('link', { name: /Landing page redesign/ }).click();
  await W.a.page.waitForSelector('.composer-input');
  assert(W.a.page.url().endsWith(`#/messages/${W.room}`), `a deep link: ${W.a.page.url()}`);
  await W.a.page.waitForSelector('.msg-empty');
});

test('messages from the client show as unread on the freelancer’s side, then are read', async () => {
  const { page: a } = W.a, { page: b } = W.b;
  await send(a, 'Hello Fred, welcome aboard.');
  await send(a, 'The brief is in the contract.');
  await waitForText(a, 'The brief is in the contract.');
  eq(await threadTexts(a), ['Hello Fred, welcome aboard.', 'The brief is in the contract.'], 'the sender sees both, in order');

  // Fred is on the Messages page but not in the room: badges, not reads.
  await b.waitForFunction((id) => document.querySelector(`.room-item[data-room="${id}"] .unread-badge`)?.textContent === '2', W.room, WAIT);
  assert(await roomItem(b, W.room).evaluate((e) => e.classList.contains('room-unread')), 'the room is bold');
  await b.waitForFunction(() => document.getElementById('nav-unread')?.textContent === '2' && !document.getElementById('nav-unread').hidden, null, WAIT);
  await b.waitForFunction(() => document.title.startsWith('(2) '), null, WAIT);
  await shot(b, 'unread-1920');

  await roomItem(b, W.room).click();
  await waitForText(b, 'The brief is in the contract.');
  eq(await threadTexts(b), ['Hello Fred, welcome aboard.', 'The brief is in the contract.'], 'the reader sees both, in order');
  await b.waitForFunction(() => !document.title.startsWith('('), null, WAIT);
  await b.waitForFunction(() => document.getElementById('nav-unread').hidden, null, WAIT);
  eq(await roomItem(b, W.room).locator('.unread-badge').count(), 0, 'no badge on the room');
  const rooms = (await ok('GET', '/rooms', undefined, W.fl.token)).rooms;
  eq(rooms.find((r) => r.id === W.room).unread, 0, 'the server has the room read');
});

test('live: the freelancer sees new messages without a reload, in order', async () => {
  const { page: a } = W.a, { page: b } = W.b;
  await b.evaluate(() => { window.__noReload = true; });
  const burst = ['One', 'Two', 'Three', 'Four'];
  for (const t of burst) await send(a, t);
  await waitForText(b, 'Four');
  const texts = await threadTexts(b);
  eq(texts.slice(-4), burst, 'in the order sent');
  eq(new Set(texts).size, texts.length, 'each once');
  assert(await b.evaluate(() => window.__noReload === true), 'the page was not reloaded');
});

test('typing shows on the other side', async () => {
  const { page: a } = W.a, { page: b } = W.b;
  await b.getByRole('textbox', { name: 'Message' }).pressSequentially('Let me', { delay: 30 });
  await a.waitForFunction(() => document.querySelector('.typing-line')?.textContent === 'Fred Freelancer is typing…', null, WAIT);
  await shot(a, 'typing-1920');
  await b.getByRole('textbox', { name: 'Message' }).fill('');
});

test('the freelancer replies with an image and a file; the client sees both', async () => {
  const { page: a } = W.a, { page: b } = W.b;
  // An image the browser draws, so the server makes a thumbnail of it.
  const pic = await W.b.ctx.newPage();
  await pic.setContent('<body style="margin:0;width:640px;height:400px;background:linear-gradient(135deg,#0f6e66,#3559b5)"><div style="margin:60px;width:300px;height:200px;background:#f4f4f4;border-radius:12px"></div></body>');
  const png = await pic.screenshot({ type: 'png', clip: { x: 0, y: 0, width: 640, height: 400 } });
  await pic.close();
  const notes = 'Notes for the hero section\nline two\n';

  const target = b.locator('.msg', { hasText: 'The brief is in the contract.' });
  await target.hover();
  await target.getByRole('button', { name: 'Reply' }).click();
  assert((await b.locator('.reply-bar').innerText()).includes('Replying to Carla Client'), 'the composer says what it replies to');
  await b.locator('.composer input[type=file]').setInputFiles([
    { name: 'mockup hero.png', mimeType: 'image/png', buffer: png },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(notes) },
  ]);
  await b.waitForFunction(() => document.querySelectorAll('.pending-file.pending-done').length === 2, null, WAIT);
  await b.getByRole('textbox', { name: 'Message' }).fill('Here is the mockup and my notes.');
  await shot(b, 'composer-files-1920');
  await b.getByRole('textbox', { name: 'Message' }).press('Enter');
  await waitForText(b, 'Here is the mockup and my notes.');
  // The message may come back over the socket before the POST answers: wait for the composer to clear.
  await b.waitForFunction(() => !document.querySelector('.pending-file') && document.querySelector('.composer-input').value === '', null, WAIT);

  await waitForText(a, 'Here is the mockup and my notes.');
  const msg = a.locator('.msg', { hasText: 'Here is the mockup and my notes.' });
  assert((await msg.locator('.msg-quote').innerText()).includes('The brief is in the contract.'), 'the reply quotes its message');
  await a.waitForFunction(() => [...document.querySelectorAll('.file-thumb img')].some((i) => i.complete && i.naturalWidth > 0), null, WAIT);
  eq(await msg.locator('.file-chip .file-name').innerText(), 'notes.txt', 'the file is listed by name');
  const [dl] = await Promise.all([a.waitForEvent('download', WAIT), msg.locator('.file-chip').click()]);
  eq(fs.readFileSync(await dl.path(), 'utf8'), notes, 'the download is the file');
  eq(dl.suggestedFilename(), 'notes.txt', 'under its name');
  await shot(a, 'thread-1920');

  // The image opens larger.
  await msg.locator('.file-thumb').click();
  await a.locator('dialog.image-viewer img[src^="blob:"]').waitFor(WAIT);
  await a.keyboard.press('Escape');
});

test('a file dropped on the thread is uploaded; an over-long text cannot be sent', async () => {
  const { page: b } = W.b;
  if (!b.url().endsWith(`#/messages/${W.room}`)) await b.goto(threadUrl(W.room));
  await b.waitForSelector('.thread-scroll:not([aria-busy])');
  await b.locator('.msg-thread').evaluate((el) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped bytes'], 'dropped.txt', { type: 'text/plain' }));
    el.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await b.locator('.pending-file.pending-done', { hasText: 'dropped.txt' }).waitFor(WAIT);
  eq(await b.locator('.msg-thread.drop-active').count(), 0, 'the drop hint is gone');
  await b.getByRole('button', { name: 'Remove dropped.txt' }).click();
  eq(await b.locator('.pending-file').count(), 0, 'removed before sending');

  const box = b.getByRole('textbox', { name: 'Message' });
  await box.fill('x'.repeat(10001));
  eq(await b.locator('.composer-count').innerText(), '10,001 / 10,000', 'the counter');
  assert(await b.getByRole('button', { name: 'Send' }).isDisabled(), 'Send is off over the limit');
  await box.press('Enter');
  await box.fill('x'.repeat(10000));
  assert(await b.getByRole('button', { name: 'Send' }).isEnabled(), 'Send is on at the limit');
  await box.fill('');
  const all = (await ok('GET', `/rooms/${W.room}/messages?limit=100`, undefined, W.fl.token)).messages;
  assert(!all.some((m) => m.text.startsWith('xxxx')), 'nothing over-long was sent');
});

test('markup is shown as text, and links become safe links', async () => {
  const { page: a } = W.a, { page: b } = W.b;
  const evil = '<img src=x onerror=alert(1)><script>alert(2)</script> see https://example.com/a?b=1&c=2. or javascript:alert(3)';
  await send(a, evil);
  await waitForText(b, evil);
  const msg = b.locator('.msg', { hasText: 'onerror' });
  eq(await msg.locator('.msg-text img, .msg-text script').count(), 0, 'no element made from the text');
  eq(await b.locator('img[src="x"]').count(), 0, 'no injected image anywhere');
  const link = msg.locator('.msg-text a');
  eq(await link.count(), 1, 'one link: http(s) only');
  eq(await link.getAttribute('href'), 'https://example.com/a?b=1&c=2', 'the link without the full stop after it');
  eq(await link.getAttribute('rel'), 'noopener noreferrer', 'rel');
  eq(await link.getAttribute('target'), '_blank', 'a new tab');
  await b.waitForTimeout(300); // an onerror would have fired by now
  eq(dialogs, [], 'no dialog fired');
});

test('the author edits and deletes; the other side sees both', async () => {
  const { page: a } = W.a, { page: b } = W.b;
  const m = a.locator('.msg', { hasText: 'Three' });
  await m.hover();
  await m.getByRole('button', { name: 'Edit' }).click();
  const ed = a.getByRole('textbox', { name: 'Edit message' });
  await ed.fill('Three (fixed)');
  await ed.press('Enter');
  await waitForText(b, 'Three (fixed)');
  assert((await b.locator('.msg', { hasText: 'Three (fixed)' }).innerText()).includes('(edited)'), 'marked as edited');

  const d = a.locator('.msg', { hasText: 'Two' });
  await d.hover();
  await d.getByRole('button', { name: 'Delete' }).click();
  await a.locator('dialog').getByRole('button', { name: 'Delete message' }).click();
  await b.waitForFunction(() => [...document.querySelectorAll('.msg-gone')].some((e) => e.textContent === 'This message was deleted'), null, WAIT);
  eq((await threadTexts(b)).includes('Two'), false, 'the text is gone');
  eq([...new Set(await b.locator('.msg-mine .msg-author').allInnerTexts())], ['Fred Freelancer'], 'the freelancer’s own messages are his');
  const other = b.locator('.msg', { hasText: 'Three (fixed)' });
  await other.hover();
  eq(await other.getByRole('button', { name: 'Edit' }).count(), 0, 'no edit on someone else’s message');
  await shot(b, 'edited-deleted-1920');
});

test('older messages load on demand, in order', async () => {
  const { page: a } = W.a;
  for (let i = 1; i <= 60; i++) await ok('POST', `/rooms/${W.room}/messages`, { text: `Batch ${i}` }, W.fl.token);
  await waitForText(a, 'Batch 60');
  await a.reload();
  await waitForText(a, 'Batch 60');
  const first = await threadTexts(a);
  eq(first.length, 50, 'one page of 50');
  await a.getByRole('button', { name: 'Load older messages' }).click();
  await a.waitForFunction((n) => document.querySelectorAll('.msg-list .msg').length > n, 50, WAIT);
  const all = await threadTexts(a);
  const batch = all.filter((t) => t.startsWith('Batch ')).map((t) => Number(t.slice(6)));
  eq(batch, Array.from({ length: 60 }, (_, i) => i + 1), 'every batch message once, oldest first');
  assert(all.indexOf('Hello Fred, welcome aboard.') === 0, 'the first message of the room is first');
  eq(await a.getByRole('button', { name: 'Load older messages' }).isVisible(), false, 'nothing older left');
});

test('a new group with the freelancer appears live on his side', async () => {
  const { page: a } = W.a, { page: b } = W.b;
  await b.goto(`${W.base}/#/messages`);
  await roomItem(b, W.room).waitFor(WAIT);
  await a.getByRole('button', { name: 'New group' }).click();
  const dlg = a.locator('dialog');
  await dlg.getByLabel('Title').fill('Launch planning');
  await dlg.getByLabel('Fred Freelancer').check();
  await shot(a, 'new-group-1920');
  await dlg.getByRole('button', { name: 'Create group' }).click();
  await dlg.waitFor({ state: 'detached' });
  await a.waitForSelector('.thread-title h2:text("Launch planning")');
  const id = decodeURIComponent(a.url().split('#/messages/')[1]);
  await send(a, 'Kick-off on Monday?');
  await b.locator(`.room-item[data-room="${id}"] .unread-badge`).waitFor(WAIT);
  assert((await roomItem(b, id).innerText()).includes('Launch planning'), 'the group is listed with its title');

  // Archived rooms fold away under "Archived".
  await a.getByRole('button', { name: 'Archive', exact: true }).click();
  await a.locator('.rooms-archived summary').waitFor(WAIT);
  assert((await a.locator('.rooms-archived').innerText()).includes('Launch planning'), 'under Archived');
  assert(await a.getByRole('textbox', { name: 'Message' }).isDisabled(), 'no writing in an archived room');
  await shot(a, 'archived-1920');
  await a.getByRole('button', { name: 'Unarchive' }).click();
  await a.waitForFunction(() => document.querySelector('.rooms-archived').hidden, null, WAIT);
});

test('the connection drops: the page says so, reconnects with since and misses nothing', async () => {
  // This tab's WebSocket goes through the test, which can cut it and refuse new ones.
  const r = await newSession('freelancer-reconnect');
  const open = [];
  let refuse = false;
  await r.ctx.routeWebSocket(/\/api\/v1\/ws$/, (ws) => {
    if (refuse) {
      ws.close({ code: 1001, reason: 'test: down' });
      return;
    }
    ws.connectToServer();
    open.push(ws);
  });
  const { page } = r;
  await signIn(page, W.fl);
  await page.goto(threadUrl(W.room));
  await page.waitForSelector('.thread-scroll:not([aria-busy])');
  await ok('POST', `/rooms/${W.room}/messages`, { text: 'Before the cut' }, W.client.token);
  await waitForText(page, 'Before the cut');

  refuse = true;
  for (const ws of open.splice(0)) await ws.close({ code: 1001, reason: 'test: cut' });
  await page.locator('.msg-status', { hasText: 'Reconnecting' }).waitFor(WAIT);
  await shot(page, 'reconnecting-1920');
  await ok('POST', `/rooms/${W.room}/messages`, { text: 'Sent while you were away' }, W.client.token);
  await ok('POST', `/rooms/${W.room}/messages`, { text: 'And another' }, W.client.token);
  refuse = false;

  await waitForText(page, 'And another');
  await page.locator('.msg-status').waitFor({ state: 'hidden', ...WAIT });
  const texts = await threadTexts(page);
  const i = texts.indexOf('Before the cut');
  eq(texts.slice(i), ['Before the cut', 'Sent while you were away', 'And another'], 'each once, in order');
  await ok('POST', `/rooms/${W.room}/messages`, { text: 'After the cut' }, W.client.token);
  await waitForText(page, 'After the cut');
  eq((await threadTexts(page)).filter((t) => t === 'After the cut').length, 1, 'live again, once');
  await r.ctx.close();
});


/** A PNG the browser draws, so that the server makes a thumbnail of it. */
async function drawPng(ctx, colors) {
  const pic = await ctx.newPage();
  await pic.setContent(`<body style="margin:0;width:480px;height:300px;background:linear-gradient(135deg,${colors})"><div style="margin:50px;width:200px;height:120px;background:#f4f4f4;border-radius:12px"></div></body>`);
  const png = await pic.screenshot({ type: 'png', clip: { x: 0, y: 0, width: 480, height: 300 } });
  await pic.close();
  return png;
}

async function uploadAs(who, name, bytes) {
  const r = await fetch(W.base + '/api/v1/files', {
    method: 'POST', headers: { Authorization: `Bearer ${who.token}`, 'X-Filename': encodeURIComponent(name) }, body: bytes,
  });
  const text = await r.text();
  if (r.status !== 201) throw new Error(`POST /files: ${r.status} ${text}`);
  return JSON.parse(text).file;
}

test('the Files list shows the room’s files with thumbnails; a download is byte-identical', async () => {
  const { page: a } = W.a;
  const bytes = crypto.randomBytes(150 * 1024 + 7);
  const bin = await uploadAs(W.fl, 'specs v2 — final.bin', bytes);
  const img = await uploadAs(W.fl, 'palette.png', await drawPng(W.a.ctx, '#b23c5d,#9a5200'));
  const m = (await ok('POST', `/rooms/${W.room}/messages`, { text: 'Specs and the palette', file_ids: [bin.id, img.id] }, W.fl.token)).message;

  await a.goto(threadUrl(W.room));
  await a.waitForSelector('.thread-scroll:not([aria-busy])');
  await a.getByRole('button', { name: 'Files', exact: true }).click();
  const dlg = a.locator('dialog.files-dialog');
  await dlg.locator('.files-row').first().waitFor(WAIT);
  const names = await dlg.locator('.files-row .file-name').allInnerTexts();
  eq(names.slice(0, 2), ['specs v2 — final.bin', 'palette.png'], 'newest first, in attachment order');
  const listed = (await ok('GET', `/rooms/${W.room}/files`, undefined, W.client.token)).files;
  eq(names.length, listed.length, 'every file of the room is listed');
  const row = dlg.locator('.files-row', { hasText: 'specs v2' });
  const meta = await row.locator('.files-meta').innerText();
  assert(/150 KB/.test(meta) && meta.includes('Posted by Fred Freelancer') && meta.includes('Today'), `size, poster and time: ${meta}`);
  eq(await row.locator('.file-ext').innerText(), 'BIN', 'a type badge for a file without a thumbnail');
  await a.waitForFunction(() => [...document.querySelectorAll('dialog.files-dialog .files-thumb img')]
    .some((i) => i.src.startsWith('blob:') && i.complete && i.naturalWidth > 0), null, WAIT);
  await shot(a, 'files-1920');

  const [dl] = await Promise.all([a.waitForEvent('download', WAIT), row.locator('.files-main').click()]);
  assert(Buffer.compare(fs.readFileSync(await dl.path()), bytes) === 0, 'the download is the file, byte for byte');
  eq(dl.suggestedFilename(), 'specs v2 — final.bin', 'under its name');

  // "Show" closes the list and brings the message into view.
  await row.getByRole('button', { name: 'Show' }).click();
  await dlg.waitFor({ state: 'detached', ...WAIT });
  await a.locator(`.msg.msg-flash[data-id="${m.id}"]`).waitFor(WAIT);
});

test('a room without files says so', async () => {
  const { page: a } = W.a;
  const g = (await ok('POST', '/rooms', { title: 'Quiet corner', member_ids: [W.fl.id] }, W.client.token)).room;
  await a.goto(threadUrl(g.id));
  await a.waitForSelector('.thread-scroll:not([aria-busy])');
  await a.getByRole('button', { name: 'Files', exact: true }).click();
  await a.locator('dialog.files-dialog .files-empty').waitFor(WAIT);
  assert((await a.locator('dialog.files-dialog').innerText()).includes('No files in this conversation yet.'), 'the empty state');
  await a.keyboard.press('Escape');
  await a.locator('dialog.files-dialog').waitFor({ state: 'detached', ...WAIT });
});

/** True once the message is inside the thread's scrolled view. */
function inView(page, id) {
  return page.waitForFunction((mid) => {
    const el = document.querySelector(`.msg[data-id="${mid}"]`);
    if (!el) return false;
    const r = el.getBoundingClientRect(), s = el.closest('.thread-scroll').getBoundingClientRect();
    return r.top >= s.top - 1 && r.bottom <= s.bottom + 1;
  }, id, WAIT);
}

test('search finds a message by a word prefix, shows markup as text and opens its room at the message', async () => {
  const { page: a } = W.a;
  const text = 'The <b>Zéphyrine</b> palette <img src=x onerror=alert(7)> is ready for review';
  const m = (await ok('POST', `/rooms/${W.room}/messages`, { text }, W.fl.token)).message;
  // Newer messages after it, so that opening the room at its end would not show it.
  for (let i = 1; i <= 25; i++) await ok('POST', `/rooms/${W.room}/messages`, { text: `Filler ${i}` }, W.client.token);

  await a.goto(`${W.base}/#/messages`);
  await roomItem(a, W.room).waitFor(WAIT);
  const box = a.getByRole('searchbox', { name: 'Search messages' });
  await box.fill('zephy'); // a prefix, lower case, without the accent
  const hit = a.locator('.search-hit', { hasText: 'palette' });
  await hit.waitFor(WAIT);
  eq(await a.locator('.search-hit').count(), 1, 'one match');
  eq(await hit.locator('mark').allInnerTexts(), ['Zéphyrine'], 'the matched word is marked');
  eq(await hit.locator('.search-hit-room').innerText(), 'Landing page redesign', 'the room’s title');
  assert((await hit.locator('.search-hit-body').innerText()).includes('Fred Freelancer: The <b>Zéphyrine</b> palette <img src=x onerror=alert(7)> is ready'), 'markup shown as text');
  eq(await a.locator('.search-pane img, .search-pane b, img[src="x"]').count(), 0, 'no element made from the text');
  assert(!(await a.locator('.room-nav').isVisible()), 'the results take the rooms’ place');
  await shot(a, 'search-1920');

  await box.fill('qwxyzzy');
  await a.locator('.search-empty').waitFor(WAIT);
  assert((await a.locator('.search-empty').innerText()).includes('No messages match “qwxyzzy”.'), 'the empty state');
  await shot(a, 'search-none-1920');

  await box.fill('palette zeph');
  await hit.waitFor(WAIT);
  await hit.click();
  await a.waitForFunction((id) => location.hash === `#/messages/${id}`, W.room, WAIT);
  await a.locator(`.msg.msg-flash[data-id="${m.id}"]`).waitFor(WAIT);
  await inView(a, m.id);
  // The thumbnails above it load after the jump; the message stays in view.
  await a.waitForFunction(() => !document.querySelector('.file-thumb.loading'), null, WAIT);
  await inView(a, m.id);
  eq(await a.getByRole('searchbox', { name: 'Search messages' }).inputValue(), 'palette zeph', 'the search stays');
  await a.locator('.search-hit[aria-current="true"]').waitFor(WAIT);
  await shot(a, 'search-opened-1920');

  // Escape clears it and the rooms come back.
  await a.getByRole('searchbox', { name: 'Search messages' }).press('Escape');
  await a.locator('.room-nav').waitFor({ state: 'visible', ...WAIT });
  eq(await a.locator('.search-pane').isVisible(), false, 'no results left');
  await a.waitForTimeout(300); // an onerror would have fired by now
  eq(dialogs, [], 'no dialog fired');
});

test('a stranger sees none of it', async () => {
  const s = await newSession('stranger');
  await signIn(s.page, W.stranger);
  await s.page.goto(`${W.base}/#/messages`);
  await s.page.waitForSelector('.room-list-note');
  eq(await s.page.locator('.room-item').count(), 0, 'no rooms');
  await s.page.goto(threadUrl(W.room));
  await s.page.waitForSelector('.thread-empty h2:text("Conversation not found")');
  assert(!(await s.page.locator('main').innerText()).includes('Hello Fred'), 'no trace of the messages');

  // Search: the room's members find the word; the stranger does not.
  await ok('POST', `/rooms/${W.room}/messages`, { text: 'Kumquatish colours for the footer' }, W.client.token);
  eq((await ok('GET', '/search?q=kumquat', undefined, W.fl.token)).messages.length, 1, 'a member finds it');
  await s.page.goto(`${W.base}/#/messages`);
  await s.page.waitForSelector('.room-list-note');
  await s.page.getByRole('searchbox', { name: 'Search messages' }).fill('kumquat');
  await s.page.locator('.search-empty').waitFor(WAIT);
  eq(await s.page.locator('.search-hit').count(), 0, 'no result for the stranger');
  eq((await ok('GET', '/search?q=kumquat', undefined, W.stranger.token)).messages, [], 'nor from the API');
  eq((await api('GET', `/rooms/${W.room}/files`, undefined, W.stranger.token)).status, 404, 'the room’s files are not his');
  await s.ctx.close();
  // The 404 above is the answer the test asked for.
  for (let i = consoleProblems.length - 1; i >= 0; i--) {
    if (/^stranger: .*status of 404/.test(consoleProblems[i])) consoleProblems.splice(i, 1);
  }
});

test('the page works at 360 px wide', async () => {
  const m = await newSession('freelancer-360', { width: 360, height: 780 });
  const { page } = m;
  await signIn(page, W.fl);
  await page.getByRole('link', { name: /Messages/ }).click();
  await roomItem(page, W.room).waitFor(WAIT);
  await shot(page, '360-rooms');
  await noHorizontalScroll(page, 'rooms');
  await page.getByRole('searchbox', { name: 'Search messages' }).fill('palette');
  await page.locator('.search-hit, .search-empty').first().waitFor(WAIT);
  await shot(page, '360-search');
  await noHorizontalScroll(page, 'search');
  await page.getByRole('button', { name: 'Clear the search' }).click();
  await roomItem(page, W.room).waitFor(WAIT);
  assert(!(await page.locator('.msg-thread').isVisible()), 'one pane at a time: the list');
  await ok('POST', `/rooms/${W.room}/messages`, { text: 'Short one for the small screen: https://example.com/brief' }, W.client.token);
  await roomItem(page, W.room).locator('.unread-badge').waitFor(WAIT);
  await roomItem(page, W.room).click();
  await waitForText(page, 'Short one for the small screen: https://example.com/brief');
  assert(!(await page.locator('.msg-rooms').isVisible()), 'one pane at a time: the thread');
  await noHorizontalScroll(page, 'thread');
  await shot(page, '360-thread');
  await page.getByRole('button', { name: 'Files', exact: true }).click();
  await page.locator('dialog.files-dialog .files-row, dialog.files-dialog .files-empty').first().waitFor(WAIT);
  await page.waitForFunction(() => !document.querySelector('dialog.files-dialog .files-thumb.loading'), null, WAIT);
  await shot(page, '360-files');
  await noHorizontalScroll(page, 'files');
  await page.keyboard.press('Escape');
  await page.getByRole('link', { name: 'All conversations' }).click();
  await roomItem(page, W.room).waitFor(WAIT);
  await m.ctx.close();
});

test('no console errors and no dialogs', async () => {
  eq(consoleProblems, [], 'console errors and warnings');
  eq(dialogs, [], 'dialogs');
});

// ---- Main ------------------------------------------------------------------------------

async function main() {
  const filter = process.argv[2];
  const run = tests.filter((t) => !filter || t.name.includes(filter) || tests.indexOf(t) < 1);
  console.log(`1..${run.length}`);
  let failed = 0;
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install chromium)`);
    if (!fs.existsSync(STINTD)) throw new Error(`no stintd at ${STINTD} (build first)`);
    await startServer();
    W.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROME_ARGS });
    await buildWorld();
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
