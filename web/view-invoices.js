// Invoices: one per contract and locked week with billable time, with the
// PDF and CSV downloads, and the caller's balance from the ledger.

import { api, download, explain } from './api.js';
import { h, toast } from './dom.js';
import { fmtMoney, fmtHM, fmtDateTime } from './time.js';
import { stateBadge } from './common.js';

export async function render(main, _params, ctx) {
  document.title = 'Invoices · stint';
  const isClient = ctx.user.role === 'client';
  const summary = h('div.balance-row');
  const list = h('div', h('p.muted', 'Loading invoices…'));
  main.append(h('div.page.page-wide',
    h('div.page-head', h('div', h('h1', 'Invoices'),
      h('p.muted', isClient ? 'One invoice per contract and week, issued when the week locks (Monday 12:00 UTC).'
        : 'What your clients were invoiced for your time, and what you are paid after the platform fee.'))),
    summary, list));

  let invoices, ledger;
  try {
    [invoices, ledger] = await Promise.all([
      api('/invoices').then((r) => r.invoices),
      api('/ledger').catch(() => null),
    ]);
  } catch (e) {
    list.replaceChildren(h('p.notice.notice-error', { role: 'alert' }, explain(e, 'load your invoices')));
    return null;
  }
  if (ledger && ledger.accounts) {
    for (const a of ledger.accounts) {
      if (a.name.startsWith('freelancer:')) {
        summary.append(
          h('div.figure-box', h('dt', `Pending (${a.currency})`), h('dd', fmtMoney(a.pending_cents, a.currency))),
          h('div.figure-box.figure-strong', h('dt', `Available (${a.currency})`), h('dd', fmtMoney(a.available_cents, a.currency))));
      } else if (a.name.startsWith('client:')) {
        summary.append(h('div.figure-box', h('dt', `Paid (${a.currency})`), h('dd', fmtMoney(-a.balance_cents, a.currency))));
      }
    }
  }
  if (!invoices.length) {
    list.replaceChildren(h('div.empty', h('h2', 'No invoices yet'),
      h('p.muted', 'An invoice is issued when a week with billable time locks, on the Monday after it at 12:00 UTC.')));
    return null;
  }
  const zone = ctx.browserZone();
  const dl = (inv, kind) => h('button.btn.btn-small', {
    type: 'button',
    'aria-label': `Download invoice ${inv.number} as ${kind.toUpperCase()}`,
    onclick: () => download(`/invoices/${encodeURIComponent(inv.id)}.${kind}`, `invoice-${inv.number}.${kind}`)
      .catch((e) => toast(explain(e, 'download this invoice'), 'error')),
  }, kind.toUpperCase());
  list.replaceChildren(h('div.table-wrap', h('table.data.invoices',
    h('caption.visually-hidden', 'Invoices, newest first'),
    h('thead', h('tr',
      h('th', { scope: 'col' }, 'No.'), h('th', { scope: 'col' }, 'Contract'), h('th', { scope: 'col' }, 'Week'),
      h('th', { scope: 'col' }, 'Hours'), h('th', { scope: 'col', class: 'num' }, 'Amount'),
      h('th', { scope: 'col', class: 'num' }, isClient ? 'Refunded' : 'Your payout'),
      h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Issued'), h('th', { scope: 'col' }, 'Download'))),
    h('tbody', invoices.map((inv) => h('tr',
      h('th', { scope: 'row' }, `#${inv.number}`),
      h('td', h('a', { href: `#/contracts/${inv.contract_id}/timesheet/${inv.week}` }, inv.title),
        h('div.muted.small', isClient ? inv.freelancer.name : inv.client.name)),
      h('td', inv.week),
      h('td', fmtHM(inv.billable_s)),
      h('td.num', fmtMoney(inv.net_amount_cents ?? inv.amount_cents, inv.currency)),
      h('td.num', isClient ? fmtMoney(inv.refunded_cents || 0, inv.currency) : fmtMoney(inv.payout_cents, inv.currency)),
      h('td', stateBadge(inv.state)),
      h('td', fmtDateTime(Date.parse(inv.issued_at), zone)),
      h('td.downloads', dl(inv, 'pdf'), dl(inv, 'csv'))))))));
  return null;
}
