// What an e2e test of the web app needs, in one place: TAP, a real stintd
// (temporary data dir, free loopback port), the API, people, Debian's
// chromium through playwright-core, screenshots. test-calls.mjs uses it;
// test-web.mjs and test-messages.mjs still carry their own copies (a debt
// of REVIEW.md, to move here when they are next touched).

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SRC = process.env.STINT_SOURCE_ROOT || path.resolve(HERE, '..', '..');
export const BUILD = process.env.STINT_BUILD_ROOT || path.join(SRC, 'build-test');
export const STINTD = path.join(BUILD, 'server', 'stintd');
export const SHOTS = path.join(BUILD, 'e2e-shots');
export const CHROMIUM = process.env.STINT_CHROMIUM || '/usr/bin/chromium';
export const CHROME_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
export const WAIT = { timeout: 15000 };

// ---- TAP ---------------------------------------------------------------------------

const tests = [];
export const test = (name, fn) => tests.push({ name, fn });

export function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}

export function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

/** Polls fn() until it returns a truthy value; throws what() after timeout ms. */
export async function until(fn, what, timeout = 15000, every = 200) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out: ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

// ---- The server -----------------------------------------------------------------------

export const W = {}; // the world: server, people, browser

export async function startServer(extraArgs = [], env = {}) {
  W.data = fs.mkdtempSync(path.join(os.tmpdir(), 'stint-e2e-'));
  execFileSync(STINTD, ['--data', W.data, 'admin', 'add', '--email', 'admin@e2e.test', '--name', 'Admin', '--password-stdin'],
    { input: 'admin password 1\n', stdio: ['pipe', 'ignore', 'inherit'] });
  W.proc = spawn(STINTD, ['--listen', '127.0.0.1:0', '--data', W.data, '--threads', '4',
    '--log-level', 'warn', '--web-dir', path.join(SRC, 'web'), ...extraArgs],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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

export async function api(method, p, body, token) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(W.base + '/api/v1' + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

export async function ok(method, p, body, token) {
  const r = await api(method, p, body, token);
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

export async function person(role, name, email) {
  const password = 'a long e2e password';
  await ok('POST', '/signup', { email, password, name, role, timezone: 'UTC' });
  const r = await ok('POST', '/login', { email, password });
  return { token: r.token, id: r.user.id, email, password, name };
}

export async function contract(client, fl, title) {
  const c = (await ok('POST', '/contracts', {
    freelancer_email: fl.email, currency: 'USD', title, hourly_rate_cents: 4500, weekly_limit_s: 36000,
  }, client.token)).contract;
  await ok('POST', `/contracts/${c.id}/accept`, undefined, fl.token);
  return c;
}

// ---- The browser ------------------------------------------------------------------------

export const consoleProblems = [];

export async function launch(extraArgs = []) {
  const { chromium } = await import('playwright-core');
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install chromium)`);
  if (!fs.existsSync(STINTD)) throw new Error(`no stintd at ${STINTD} (build first)`);
  W.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROME_ARGS, ...extraArgs] });
}

export async function newSession(name, { width = 1920, height = 1080, permissions = [] } = {}) {
  const ctx = await W.browser.newContext({ viewport: { width, height }, locale: 'en-US', timezoneId: 'UTC' });
  if (permissions.length) await ctx.grantPermissions(permissions, { origin: W.base });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleProblems.push(`${name}: ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleProblems.push(`${name}: page error: ${e.message}`));
  return { ctx, page };
}

export async function signIn(page, who) {
  await page.goto(W.base + '/');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('h1:text("Contracts")');
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.waitForTimeout(150); // let the last frame paint
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

// ---- Main -------------------------------------------------------------------------------------

/** Runs setup, then the tests (those whose name holds argv[2], and always the first). */
export async function main(setup) {
  const filter = process.argv[2];
  const run = tests.filter((t) => !filter || t.name.includes(filter) || tests.indexOf(t) < 1);
  console.log(`1..${run.length}`);
  let failed = 0;
  try {
    await setup();
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

export async function teardown() {
  try { if (W.browser) await W.browser.close(); } catch { /* closing anyway */ }
  if (W.proc && W.proc.exitCode === null) {
    W.proc.kill('SIGTERM');
    await new Promise((r) => { const t = setTimeout(() => { W.proc.kill('SIGKILL'); r(); }, 10000); W.proc.on('exit', () => { clearTimeout(t); r(); }); });
  }
  for (const fn of W.cleanups || []) {
    try { await fn(); } catch { /* cleaning up anyway */ }
  }
  if (W.data) fs.rmSync(W.data, { recursive: true, force: true });
}
