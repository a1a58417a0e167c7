// Building the page: h() makes elements (text is always set as text, never
// parsed as HTML, so names and memos cannot inject markup), plus the modal
// dialogs and toasts every view shares.

/**
 * h('button.btn.primary', {type: 'button', onclick: fn}, 'Save')
 * Attributes: class, text, on<event>, dataset, hidden/disabled/checked and
 * the like as booleans, style as an object (CSSOM, allowed by the CSP),
 * anything else as an attribute. Children: nodes, strings, arrays, null.
 */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') for (const [p, val] of Object.entries(v)) el.style.setProperty(p, val);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else if (k in el && typeof el[k] !== 'function' && !k.includes('-') && k !== 'list') el[k] = v;
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let uid = 0;
export function nextId(prefix = 'id') {
  uid += 1;
  return `${prefix}-${uid}`;
}

// ---- Toasts ---------------------------------------------------------------

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div.toast', { class: `toast-${kind}` }, message);
  box.append(t);
  setTimeout(() => t.classList.add('toast-out'), 4500);
  setTimeout(() => t.remove(), 5000);
}

// ---- Dialogs ----------------------------------------------------------------

/**
 * Opens a modal <dialog>. build(close) returns the dialog's body; close(v)
 * closes it and resolves the promise with v (undefined on Escape).
 */
export function modal({ title, className = '', build, labelledBy }) {
  return new Promise((resolve) => {
    const titleId = nextId('dlg-title');
    const dlg = h('dialog.dialog', { class: className, 'aria-labelledby': labelledBy || titleId });
    let result;
    const close = (v) => {
      result = v;
      dlg.close();
    };
    dlg.addEventListener('close', () => {
      dlg.remove();
      resolve(result);
    });
    const header = title === null ? null : h('div.dialog-head',
      h('h2', { id: titleId }, title),
      h('button.icon-btn', { type: 'button', 'aria-label': 'Close', onclick: () => close(undefined) }, '×'));
    dlg.append(...[header, build(close, dlg)].filter(Boolean));
    document.body.append(dlg);
    dlg.showModal();
    const focus = dlg.querySelector('[autofocus]') || dlg.querySelector('.dialog-body input, .dialog-body textarea, .dialog-actions .btn-primary, .dialog-actions .btn-danger');
    if (focus) focus.focus();
  });
}

/** A yes/no question; resolves to true when confirmed. */
export function confirmDialog({ title, message, details, confirmLabel = 'OK', danger = false }) {
  return modal({
    title,
    build: (close) => h('div',
      h('div.dialog-body',
        h('p.dialog-message', message),
        details ? h('p.muted', details) : null),
      h('div.dialog-actions',
        h('button.btn', { type: 'button', onclick: () => close(false) }, 'Cancel'),
        h(danger ? 'button.btn.btn-danger' : 'button.btn.btn-primary',
          { type: 'button', onclick: () => close(true) }, confirmLabel))),
  }).then((v) => v === true);
}

/**
 * A form in a dialog. fields(form) builds the inputs; submit(form) returns a
 * promise: its value closes the dialog, a thrown Error's message is shown in
 * the dialog and keeps it open.
 */
export function formDialog({ title, intro, fields, submitLabel, submit, danger = false }) {
  return modal({
    title,
    build: (close) => {
      const error = h('p.form-error', { role: 'alert', hidden: true });
      const button = h(danger ? 'button.btn.btn-danger' : 'button.btn.btn-primary', { type: 'submit' }, submitLabel);
      const form = h('form.dialog-form', { novalidate: true });
      form.append(
        h('div.dialog-body', intro ? h('p.dialog-message', intro) : null, fields(form), error),
        h('div.dialog-actions',
          h('button.btn', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
          button));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        error.hidden = true;
        button.disabled = true;
        try {
          close(await submit(form));
        } catch (e) {
          error.textContent = e.message;
          error.hidden = false;
          button.disabled = false;
        }
      });
      return form;
    },
  });
}

/** A labelled field: the label is tied to the control by id. */
export function field(label, control, hint) {
  const id = control.id || (control.id = nextId('f'));
  const hintEl = hint ? h('span.field-hint', { id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div.field', h('label', { for: id }, label), control, hintEl);
}
