// Pieces several views share: the time-zone choice, state badges, the
// flags and protection reasons in words, and a contract's page header.

import { h } from './dom.js';

/** The zone a contract's pages are shown in, from the viewer's choice. */
export function zoneFor(ctx, contract, pref = ctx.zonePref()) {
  if (pref === 'utc') return 'UTC';
  if (pref === 'mine') return ctx.browserZone();
  return (contract && contract.freelancer && contract.freelancer.timezone) || 'UTC';
}

const STATES = {
  offered: ['Offer', 'state-offered'],
  active: ['Active', 'state-active'],
  paused: ['Paused', 'state-paused'],
  ended: ['Ended', 'state-ended'],
  open: ['Open', 'state-offered'],
  review: ['In review', 'state-review'],
  approved: ['Approved', 'state-active'],
  disputed: ['Disputed', 'state-paused'],
  billed: ['Billed', 'state-active'],
  paid: ['Paid', 'state-active'],
  pending: ['Pending', 'state-review'],
  failed: ['Charge failed', 'state-paused'],
  void: ['Void', 'state-ended'],
};

export function stateBadge(state) {
  const [label, cls] = STATES[state] || [state, 'state-ended'];
  return h('span.badge', { class: cls }, label);
}

/** The flags the legend explains, in the order it lists them. */
export const FLAGS = [
  ['manual', 'Manual', 'Time added by hand; never covered by payment protection.'],
  ['over_limit', 'Over limit', 'Past the weekly limit; kept in the diary but not billed.'],
  ['idle_kept', 'Idle kept', 'Idle time the freelancer chose to keep.'],
  ['unusual_input', 'Unusual input', 'More than half of the input was synthetic.'],
  ['no_screenshot', 'No screenshot', 'The contract wants screenshots and none is stored.'],
  ['overlap', 'Overlap', 'Two devices tracked the same minutes; billed once.'],
  ['clock_jump', 'Clock jump', 'The computer’s clock jumped while tracking.'],
];

export function flagLabel(flag) {
  const f = FLAGS.find((x) => x[0] === flag);
  return f ? f[1] : flag.replace(/_/g, ' ');
}

export function flagPill(flag) {
  return h('span.flag', { class: `flag-${flag}` }, flagLabel(flag));
}

const REASONS = {
  contract_not_active: 'the contract was not active',
  no_weekly_limit: 'the contract has no weekly limit',
  manual: 'manual time',
  over_limit: 'over the weekly limit',
  no_screenshot: 'no screenshot',
  no_activity: 'no keyboard or mouse activity',
  idle_kept: 'idle time kept',
  no_memo: 'no memo',
  no_tag: 'no tag',
  unusual_input: 'unusual input',
  overlap: 'tracked twice (overlap)',
  clock_jump: 'the clock jumped',
  freelancer_not_verified: 'the freelancer’s identity is not verified',
  client_billing_not_verified: 'the client’s billing method is not verified',
};

export function reasonText(r) {
  return REASONS[r] || r.replace(/_/g, ' ');
}

/** Title, parties and the Work Diary / Timesheet tabs of a contract's pages. */
export function contractHeader(contract, ctx, current, links) {
  const isClient = ctx.user.role === 'client';
  const other = isClient ? contract.freelancer : contract.client;
  const tab = (key, label, href) => h('a.tab', { href, 'aria-current': current === key ? 'page' : null }, label);
  return h('div.contract-head',
    h('nav.breadcrumb', { 'aria-label': 'Breadcrumb' }, h('a', { href: '#/contracts' }, 'Contracts'), h('span', { 'aria-hidden': 'true' }, '›'),
      h('span', contract.title)),
    h('div.contract-head-row',
      h('div',
        h('h1', contract.title),
        h('p.muted', `${isClient ? 'Freelancer' : 'Client'}: ${other.name}`)),
      stateBadge(contract.state)),
    h('nav.tabs', { 'aria-label': 'Contract pages' },
      tab('diary', 'Work Diary', links.diary),
      tab('timesheet', 'Timesheet', links.timesheet)));
}
