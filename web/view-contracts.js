// The contracts list: each contract with this week's hours against its
// weekly limit, its state and rate, and links to its Work Diary and
// timesheet. This week's figures come from the open timesheet.

import { api, explain } from './api.js';
import { h, toast } from './dom.js';
import { fmtHM, fmtMoney, dateInZone, isoWeek } from './time.js';
import { stateBadge, zoneFor } from './common.js';

export async function render(main, _params, ctx) {
  document.title = 'Contracts · stint';
  const list = h('div.contract-list', { 'aria-busy': 'true' }, h('p.muted', 'Loading contracts…'));
  main.append(h('div.page',
    h('div.page-head', h('div', h('h1', 'Contracts'),
      h('p.muted', ctx.user.role === 'client'
        ? 'Hourly contracts you offered. Open a Work Diary to review the time.'
        : 'Your hourly contracts. Open a Work Diary to check and fix your time.'))),
    list));

  let contracts;
  try {
    [contracts] = await Promise.all([api('/contracts').then((r) => r.contracts), ctx.refreshClock()]);
  } catch (e) {
    list.replaceChildren(h('p.notice.notice-error', { role: 'alert' }, explain(e, 'load your contracts')));
    return null;
  }
  list.removeAttribute('aria-busy');
  if (!contracts.length) {
    list.replaceChildren(h('div.empty',
      h('h2', 'No contracts yet'),
      h('p.muted', ctx.user.role === 'client'
        ? 'Contracts you offer to freelancers appear here.'
        : 'Contracts that clients offer you appear here.')));
    return null;
  }
  const week = isoWeek(ctx.now());
  const sheets = await Promise.all(contracts.map((c) =>
    api(`/contracts/${encodeURIComponent(c.id)}/timesheets?week=${week}`)
      .then((r) => r.timesheet).catch(() => null)));
  list.replaceChildren(...contracts.map((c, i) => card(c, sheets[i], ctx, main)));
  return null;
}

function card(c, ts, ctx, main) {
  const isClient = ctx.user.role === 'client';
  const other = isClient ? c.freelancer : c.client;
  const today = dateInZone(ctx.now(), zoneFor(ctx, c));
  const diary = `#/contracts/${c.id}/diary/${today}`;
  const worked = ts ? ts.tracked_s + ts.manual_s : 0;
  const limit = c.weekly_limit_s;
  const pct = limit ? Math.min(100, Math.round((worked / Math.max(1, limit)) * 100)) : 0;
  const over = limit !== null && worked > limit;

  const meter = limit === null ? h('p.meter-caption', 'No weekly limit')
    : h('div.meter', { role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': limit, 'aria-valuenow': Math.min(worked, limit),
      'aria-label': `This week: ${fmtHM(worked)} of ${fmtHM(limit)} hours` },
    h('div.meter-fill', { class: over ? 'meter-over' : '', style: { width: `${pct}%` } }));

  const actions = [h('a.btn.btn-primary', { href: diary }, 'Work Diary'),
    h('a.btn', { href: `#/contracts/${c.id}/timesheet` }, 'Timesheet')];
  if (!isClient && c.state === 'offered') {
    actions.unshift(h('button.btn.btn-primary', {
      type: 'button',
      onclick: async (ev) => {
        ev.currentTarget.disabled = true;
        try {
          await api(`/contracts/${encodeURIComponent(c.id)}/accept`, { method: 'POST' });
          toast(`You accepted “${c.title}”.`, 'success');
          ctx.go('#/contracts');
        } catch (e) {
          toast(explain(e, 'accept this contract'), 'error');
          ev.currentTarget.disabled = false;
        }
      },
    }, 'Accept offer'));
  }

  return h('article.contract-card', { 'aria-labelledby': `ct-${c.id}` },
    h('div.contract-top',
      h('div',
        h('h2.contract-title', { id: `ct-${c.id}` }, h('a', { href: diary }, c.title)),
        h('p.muted', `${isClient ? 'Freelancer' : 'Client'}: ${other.name}`)),
      stateBadge(c.state)),
    h('dl.contract-figures',
      h('div', h('dt', 'This week'), h('dd.figure', `${fmtHM(worked)} hrs`)),
      h('div', h('dt', 'Weekly limit'), h('dd.figure', limit === null ? 'None' : `${fmtHM(limit)} hrs`)),
      h('div', h('dt', 'Rate'), h('dd.figure', `${fmtMoney(c.hourly_rate_cents, c.currency)}/hr`)),
      h('div', h('dt', 'This week’s amount'), h('dd.figure', ts ? fmtMoney(ts.amount_cents, ts.currency) : '—'))),
    meter,
    over ? h('p.meter-caption.text-warn', `${fmtHM(worked - limit)} hrs over the limit are not billed.`) : null,
    h('div.card-actions', actions));
}
