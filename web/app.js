// The web app's entry: the session, the server's clock and settings, and a
// router over the URL's fragment (#/contracts/ID/diary/2026-11-04), so every
// page is a deep link that the server answers with index.html at "/".
//
// Each view module exports render(main, params, ctx) and may return a
// function that stops what it started (polling, blob URLs).

import { api, getToken, setToken, onUnauthenticated, explain } from './api.js';
import { h, clear, toast } from './dom.js';
import { browserZone } from './time.js';
import * as loginView from './view-login.js';
import * as contractsView from './view-contracts.js';
import * as diaryView from './view-diary.js';
import * as timesheetView from './view-timesheet.js';
import * as invoicesView from './view-invoices.js';
import * as messagesView from './view-messages.js';
import * as live from './messages-live.js';
import * as callUi from './call-ui.js';

const routes = [
  { re: /^\/login$/, view: loginView, nav: null, open: true },
  { re: /^\/contracts$/, view: contractsView, nav: 'contracts' },
  { re: /^\/contracts\/([A-Za-z0-9._-]+)\/diary(?:\/(\d{4}-\d{2}-\d{2}))?$/, view: diaryView, nav: 'contracts', keys: ['id', 'date'] },
  { re: /^\/contracts\/([A-Za-z0-9._-]+)\/timesheet(?:\/(\d{4}-W\d{2}))?$/, view: timesheetView, nav: 'contracts', keys: ['id', 'week'] },
  { re: /^\/invoices$/, view: invoicesView, nav: 'invoices' },
  { re: /^\/messages(?:\/([A-Za-z0-9._~-]+))?$/, view: messagesView, nav: 'messages', keys: ['room'] },
];

/** What every view may read: who is signed in, the server's settings and clock. */
export const ctx = {
  user: null,
  config: { segment_s: 600 },
  clockSkewMs: 0, // server time - browser time (the server's clock is the one rules read)
  now() {
    return Date.now() + this.clockSkewMs;
  },
  async refreshClock() {
    const cfg = await api('/config', { auth: false });
    this.config = cfg;
    if (cfg.now) this.clockSkewMs = Date.parse(cfg.now) - Date.now();
    return cfg;
  },
  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  zonePref() {
    try {
      return localStorage.getItem('stint.zone') || 'freelancer';
    } catch {
      return 'freelancer';
    }
  },
  setZonePref(z) {
    try {
      localStorage.setItem('stint.zone', z);
    } catch {
      // Not kept; fine.
    }
  },
  browserZone,
};

let cleanup = null;
let returnTo = null;

function showChrome(signedIn) {
  const bar = document.getElementById('topbar');
  bar.hidden = !signedIn;
  if (signedIn && ctx.user) {
    const name = document.getElementById('account-name');
    clear(name).append(h('span', ctx.user.name), h('span.role-badge', ctx.user.role));
  }
}

function setNav(nav) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  const path = location.hash.replace(/^#/, '') || '/contracts';
  const main = document.getElementById('main');
  if (cleanup) {
    try {
      cleanup();
    } catch {
      // A view's cleanup must not stop the next view.
    }
    cleanup = null;
  }
  const r = routes.find((x) => x.re.test(path));
  if (!r) {
    ctx.go('#/contracts');
    return;
  }
  if (!r.open && !ctx.user) {
    returnTo = '#' + path;
    ctx.go('#/login');
    return;
  }
  if (r.open && ctx.user) {
    ctx.go('#/contracts');
    return;
  }
  const m = r.re.exec(path);
  const params = {};
  (r.keys || []).forEach((k, i) => { params[k] = m[i + 1]; });
  showChrome(!!ctx.user);
  setNav(r.nav);
  if (ctx.user) live.start(ctx.user); // the tab's one WebSocket, for the unread badge on every page
  if (ctx.user) callUi.start(ctx.user); // incoming calls ring on every page
  clear(main);
  const result = r.view.render(main, params, ctx);
  cleanup = result && typeof result.then === 'function' ? null : result;
  if (result && typeof result.then === 'function') {
    const token = {};
    route.current = token;
    const fn = await result;
    if (route.current === token) cleanup = fn || null;
    else if (fn) fn();
  }
}

export async function signedIn(token, user) {
  setToken(token);
  ctx.user = user;
  const to = returnTo && !returnTo.startsWith('#/login') ? returnTo : '#/contracts';
  returnTo = null;
  ctx.go(to);
}

async function signOut() {
  try {
    await api('/logout', { method: 'POST' });
  } catch {
    // The token may be gone already; signing out locally is what matters.
  }
  callUi.stop(); // hangs up while the socket is still open
  live.stop();
  setToken(null);
  ctx.user = null;
  toast('You are signed out.');
  ctx.go('#/login');
}

onUnauthenticated(() => {
  if (!ctx.user) return;
  callUi.stop(); // hangs up while the socket is still open
  live.stop();
  setToken(null);
  ctx.user = null;
  returnTo = location.hash;
  toast('Your session has ended. Sign in again to continue.', 'warn');
  ctx.go('#/login');
});

async function boot() {
  document.getElementById('signout').addEventListener('click', signOut);
  try {
    await ctx.refreshClock();
  } catch {
    // The login page says so if the server stays unreachable.
  }
  if (getToken()) {
    try {
      ctx.user = (await api('/me')).user;
    } catch (e) {
      if (e.status !== 401) toast(explain(e, 'load your account'), 'error');
      setToken(null);
    }
  }
  window.addEventListener('hashchange', route);
  await route();
}

boot();
