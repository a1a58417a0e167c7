// A contract's timesheet for one week: the figures, the days, every
// segment Hourly Payment Protection does not cover with its reasons, the
// dispute if there is one, approval (client) and the answer to a dispute
// (freelancer), and CSV/PDF downloads.

import { api, download, explain } from './api.js';
import { h, clear, toast, confirmDialog } from './dom.js';
import { isoWeek, isoWeekStart, shiftWeek, fmtHM, fmtMoney, fmtDate, fmtDateTime, dateInZone, fmtTime } from './time.js';
import { contractHeader, stateBadge, reasonText, zoneFor } from './common.js';

const STATE_TEXT = {
  open: 'The week is still open: these figures change as time is tracked. It locks on Monday at 12:00 UTC.',
  review: 'The week is locked and its invoice issued. The client may approve it or dispute segments until the end of Friday.',
  approved: 'Approved. It is billed when the review period ends.',
  disputed: 'Disputed: the contract is paused until the dispute is settled.',
  billed: 'Billed: the earnings are pending until the security period ends.',
  paid: 'Paid: the earnings are available.',
};

export async function render(main, params, ctx) {
  const enc = encodeURIComponent(params.id);
  main.append(h('div.page', h('p.muted', 'Loading the timesheet…')));
  let contract;
  try {
    [contract] = await Promise.all([api(`/contracts/${enc}`).then((r) => r.contract), ctx.refreshClock()]);
  } catch (e) {
    clear(main).append(h('div.page', h('div.empty',
      h('h1', e.status === 404 ? 'Contract not found' : 'The timesheet could not be loaded'),
      h('p.muted', e.status === 404 ? 'This contract does not exist, or you are not a party to it.' : explain(e, 'load this timesheet')),
      h('p', h('a.btn', { href: '#/contracts' }, 'Back to contracts')))));
    return null;
  }
  const week = params.week || isoWeek(ctx.now());
  if (!params.week) history.replaceState(null, '', `#/contracts/${contract.id}/timesheet/${week}`);
  document.title = `Timesheet ${week} · ${contract.title} · stint`;
  const zone = zoneFor(ctx, contract);
  const base = `#/contracts/${contract.id}`;
  const body = h('div.timesheet', { 'aria-busy': 'true' });
  const weekStart = isoWeekStart(week);
  const thisWeek = isoWeek(ctx.now());
  const diaryDate = dateInZone(Math.min(weekStart + 86400000 * 3, ctx.now()), zone);

  clear(main).append(h('div.page.page-wide',
    contractHeader(contract, ctx, 'timesheet', { diary: `${base}/diary/${diaryDate}`, timesheet: `${base}/timesheet/${week}` }),
    h('div.week-nav', { role: 'group', 'aria-label': 'Week' },
      h('a.btn.icon-btn', { href: `${base}/timesheet/${shiftWeek(week, -1)}`, 'aria-label': 'Previous week' }, '‹'),
      h('h2.week-title', `Week ${week}`, h('span.muted', ` · ${fmtDate(new Date(weekStart).toISOString().slice(0, 10), 'short')} – ${fmtDate(new Date(weekStart + 6 * 86400000).toISOString().slice(0, 10), 'short')} (UTC)`)),
      week < thisWeek ? h('a.btn.icon-btn', { href: `${base}/timesheet/${shiftWeek(week, 1)}`, 'aria-label': 'Next week' }, '›') : h('span.icon-btn-placeholder'),
      week !== thisWeek ? h('a.btn', { href: `${base}/timesheet/${thisWeek}` }, 'This week') : null),
    body));

  let ts;
  try {
    ts = (await api(`/contracts/${enc}/timesheets?week=${week}`)).timesheet;
  } catch (e) {
    body.replaceChildren(h('p.notice.notice-error', { role: 'alert' }, explain(e, 'load this timesheet')));
    return null;
  }
  body.removeAttribute('aria-busy');
  let dispute = null;
  if (ts.dispute && typeof ts.dispute === 'object') dispute = ts.dispute;
  else if (typeof ts.dispute === 'string') dispute = await api(`/disputes/${encodeURIComponent(ts.dispute)}`).then((r) => r.dispute).catch(() => null);

  const isClient = ctx.user.role === 'client';
  const actions = [];
  if (isClient && ts.state === 'review') {
    actions.push(h('button.btn.btn-primary', {
      type: 'button',
      onclick: async () => {
        const ok = await confirmDialog({
          title: `Approve ${week}?`,
          message: `You approve ${fmtHM(ts.billable_s)} hrs, ${fmtMoney(ts.amount_cents, ts.currency)}. It is billed when the review ends.`,
          confirmLabel: 'Approve timesheet',
        });
        if (!ok) return;
        try {
          await api(`/timesheets/${encodeURIComponent(ts.id)}/approve`, { method: 'POST' });
          toast(`Timesheet ${week} approved.`, 'success');
          render(clear(main), { id: params.id, week }, ctx);
        } catch (e) {
          toast(explain(e, 'approve this timesheet'), 'error');
        }
      },
    }, 'Approve timesheet'));
    actions.push(h('a.btn', { href: `${base}/diary/${diaryDate}` }, 'Dispute segments in the Work Diary'));
  }
  actions.push(h('button.btn', {
    type: 'button',
    onclick: () => download(`/contracts/${enc}/timesheets?week=${week}&format=csv`, `timesheet-${week}.csv`)
      .catch((e) => toast(explain(e, 'download the CSV'), 'error')),
  }, 'Download CSV'));
  if (ts.invoice_id) {
    const inv = encodeURIComponent(ts.invoice_id);
    actions.push(h('button.btn', { type: 'button', onclick: () => download(`/invoices/${inv}.pdf`, `invoice-${week}.pdf`).catch((e) => toast(explain(e, 'download the invoice'), 'error')) }, 'Invoice PDF'));
  }

  const figure = (label, value, cls = '') => h('div.figure-box', { class: cls }, h('dt', label), h('dd', value));
  const days = (ts.days || []).map((d) => h('tr',
    h('th', { scope: 'row' }, h('a', { href: `${base}/diary/${d.date}` }, fmtDate(d.date, 'short'))),
    h('td', fmtHM(d.tracked_s)), h('td', fmtHM(d.manual_s)), h('td', { class: d.over_limit_s ? 'text-warn' : '' }, fmtHM(d.over_limit_s)),
    h('td', fmtHM(d.billable_s)), h('td', fmtHM(d.protected_s)), h('td.num', fmtMoney(d.amount_cents, ts.currency))));

  const unprot = ts.unprotected || [];
  body.append(...[
    h('div.sheet-state', stateBadge(ts.state), h('p', STATE_TEXT[ts.state] || ''),
      ts.state === 'review' && ts.review_ends_at ? h('p.muted', `Review ends ${fmtDateTime(Date.parse(ts.review_ends_at), zone)}.`) : null),
    h('dl.figures',
      figure('Tracked', `${fmtHM(ts.tracked_s)} hrs`),
      figure('Manual', `${fmtHM(ts.manual_s)} hrs`),
      figure('Over the limit', `${fmtHM(ts.over_limit_s)} hrs`, ts.over_limit_s ? 'text-warn' : ''),
      figure('Billable', `${fmtHM(ts.billable_s)} hrs`),
      figure('Protected', `${fmtHM(ts.protected_s)} hrs`),
      figure('Amount', fmtMoney(ts.amount_cents, ts.currency), 'figure-strong')),
    ts.weekly_limit_s !== null ? h('p.muted', `Weekly limit ${fmtHM(ts.weekly_limit_s)} hrs at ${fmtMoney(ts.hourly_rate_cents, ts.currency)}/hr.`) : h('p.muted', `No weekly limit; ${fmtMoney(ts.hourly_rate_cents, ts.currency)}/hr.`),
    h('div.card-actions', actions),
    dispute ? disputeBox(dispute, ctx, zone, () => render(clear(main), params, ctx)) : null,
    h('section.sheet-section', { 'aria-labelledby': 'days-title' },
      h('h3', { id: 'days-title' }, 'Days (UTC)'),
      h('div.table-wrap', h('table.data',
        h('thead', h('tr', ['Day', 'Tracked', 'Manual', 'Over limit', 'Billable', 'Protected', 'Amount'].map((c, i) => h('th', { scope: 'col', class: i === 6 ? 'num' : '' }, c)))),
        h('tbody', days)))),
    h('section.sheet-section', { 'aria-labelledby': 'unprot-title' },
      h('h3', { id: 'unprot-title' }, `Not covered by payment protection (${unprot.length})`),
      unprot.length ? h('p.muted', 'Each segment with every reason Hourly Payment Protection does not cover it.') : h('p.muted', 'Every billed segment of this week is protected.'),
      unprot.length ? h('div.table-wrap', h('table.data.reasons',
        h('thead', h('tr', h('th', { scope: 'col' }, 'Segment'), h('th', { scope: 'col' }, 'Billable'), h('th', { scope: 'col' }, 'Protected'), h('th', { scope: 'col' }, 'Reasons'))),
        h('tbody', unprot.map((u) => {
          const t = Date.parse(u.start);
          return h('tr',
            h('th', { scope: 'row' }, h('a', { href: `${base}/diary/${dateInZone(t, zone)}` }, `${fmtDate(dateInZone(t, zone), 'short')}, ${fmtTime(t, zone)}`)),
            h('td', fmtHM(u.billable_s)), h('td', fmtHM(u.protected_s)),
            h('td', h('ul.reason-list', u.reasons.map((r) => h('li', reasonText(r))))));
        })))) : null),
  ].filter(Boolean));
  return null;
}

function disputeBox(d, ctx, zone, reload) {
  const isFreelancer = ctx.user.role === 'freelancer';
  const answer = async (accept) => {
    const ok = await confirmDialog({
      title: accept ? 'Accept the dispute?' : 'Decline the dispute?',
      message: accept ? 'The disputed time is refunded to the client.' : 'An admin will look at the dispute and decide.',
      confirmLabel: accept ? 'Accept and refund' : 'Decline',
      danger: accept,
    });
    if (!ok) return;
    try {
      await api(`/disputes/${encodeURIComponent(d.id)}/respond`, { method: 'POST', body: { accept } });
      toast(accept ? 'Dispute accepted; the time is refunded.' : 'Dispute declined; an admin will decide.', 'success');
      reload();
    } catch (e) {
      toast(explain(e, 'answer this dispute'), 'error');
    }
  };
  return h('section.dispute-box', { 'aria-labelledby': 'dispute-title' },
    h('h3', { id: 'dispute-title' }, 'Dispute ', stateBadge(d.state === 'open' ? 'review' : d.state === 'accepted' ? 'approved' : 'disputed')),
    h('p', h('strong', 'Reason: '), d.reason),
    h('p.muted', `${(d.segment_ids || []).length} segments disputed on ${fmtDateTime(Date.parse(d.filed_at), zone)}`,
      d.state === 'open' && d.respond_by ? `; the freelancer answers by ${fmtDateTime(Date.parse(d.respond_by), zone)}.` : '.',
      d.refunded_s ? ` Refunded: ${fmtHM(d.refunded_s)} hrs.` : ''),
    isFreelancer && d.state === 'open' ? h('div.card-actions',
      h('button.btn.btn-primary', { type: 'button', onclick: () => answer(true) }, 'Accept and refund'),
      h('button.btn', { type: 'button', onclick: () => answer(false) }, 'Decline')) : null);
}
