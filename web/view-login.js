// Sign in: email and password for a token (POST /login).

import { api, explain } from './api.js';
import { h, field } from './dom.js';
import { signedIn } from './app.js';

export function render(main) {
  document.title = 'Sign in · stint';
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const button = h('button.btn.btn-primary.btn-block', { type: 'submit' }, 'Sign in');
  const form = h('form.login-form', { novalidate: true, 'aria-labelledby': 'login-title' },
    field('Email', email),
    field('Password', password),
    error,
    button);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!email.value.trim() || !password.value) {
      error.textContent = 'Enter your email and password.';
      error.hidden = false;
      return;
    }
    button.disabled = true;
    button.textContent = 'Signing in…';
    try {
      const r = await api('/login', {
        method: 'POST', auth: false,
        body: { email: email.value.trim(), password: password.value, device: 'web' },
      });
      await signedIn(r.token, r.user);
    } catch (e) {
      error.textContent = e.status === 401
        ? 'That email and password do not match an account.'
        : explain(e, 'sign you in');
      error.hidden = false;
      button.disabled = false;
      button.textContent = 'Sign in';
      password.select();
    }
  });

  main.append(h('div.login-page',
    h('section.login-card',
      h('div.login-brand', h('img', { src: 'icon.svg', alt: '', width: 40, height: 40 }), h('span', 'stint')),
      h('h1', { id: 'login-title' }, 'Sign in to your Work Diary'),
      h('p.muted', 'Review tracked time, screenshots and timesheets for your hourly contracts.'),
      form),
    h('p.login-foot.muted', 'Time is counted per minute of activity, never what was typed.')));
  email.focus();
}
