// The call's faces on every page: the incoming-call banner (accept,
// decline, a ring made with WebAudio) and the call view, an overlay above
// whatever page is open so that moving around the app keeps the call:
// the participants' videos, the local preview, mute, camera, screen share,
// device choice, hang up and each peer's connection quality.
//
// Not here: signaling and media (calls.js).

import { h, clear, toast } from './dom.js';
import * as calls from './calls.js';
import * as live from './messages-live.js';

const RING_EVERY_MS = 3000;

const ui = {
  started: false,
  banner: null,
  view: null,
  grid: null,
  controls: null,
  devicesBox: null,
  tiles: new Map(), // user id -> {el, video, label, quality}
  localTile: null,
  audio: null, // AudioContext
  ringTimer: null,
};

// ---- Ringing ---------------------------------------------------------------------

function ringOnce() {
  try {
    if (!ui.audio) ui.audio = new AudioContext();
    const ctx = ui.audio;
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    const t0 = ctx.currentTime;
    for (const [i, freq] of [[0, 880], [1, 660]]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      const s = t0 + i * 0.4;
      gain.gain.setValueAtTime(0, s);
      gain.gain.linearRampToValueAtTime(0.2, s + 0.03);
      gain.gain.linearRampToValueAtTime(0, s + 0.35);
      osc.connect(gain).connect(ctx.destination);
      osc.start(s);
      osc.stop(s + 0.4);
    }
  } catch {
    // No sound (no audio device, or the browser wants a gesture first): the banner still shows.
  }
}

function ring(on) {
  if (on && !ui.ringTimer) {
    ringOnce();
    ui.ringTimer = setInterval(ringOnce, RING_EVERY_MS);
  } else if (!on && ui.ringTimer) {
    clearInterval(ui.ringTimer);
    ui.ringTimer = null;
  }
}

// ---- The banner ---------------------------------------------------------------------

function roomTitle(id) {
  const r = live.room(id);
  return r ? r.title : 'a conversation';
}

function drawBanner(s) {
  const ev = s.incoming[0];
  const show = !!ev && !s.call && !s.joining;
  ring(show);
  if (!show) {
    if (ui.banner) ui.banner.hidden = true;
    return;
  }
  if (!ui.banner) {
    ui.banner = h('div.call-banner', { role: 'alertdialog', 'aria-live': 'assertive', 'aria-label': 'Incoming call' });
    document.body.append(ui.banner);
  }
  ui.banner.hidden = false;
  clear(ui.banner).append(
    h('div.call-banner-text',
      h('strong', `${ev.from.name} is calling`),
      h('span.muted', roomTitle(ev.room_id))),
    h('div.call-banner-actions',
      h('button.btn.btn-primary.call-accept', { type: 'button', onclick: () => calls.accept(ev.call_id) }, 'Accept'),
      h('button.btn.btn-danger.call-decline', { type: 'button', onclick: () => calls.decline(ev.call_id) }, 'Decline')));
}

// ---- The call view ------------------------------------------------------------------

function button(cls, label, onclick, pressed) {
  return h(`button.btn.call-btn.${cls}`, { type: 'button', onclick, 'aria-pressed': pressed === undefined ? null : String(pressed) }, label);
}

function ensureView() {
  if (ui.view) return;
  ui.grid = h('div.call-grid');
  ui.controls = h('div.call-controls');
  ui.devicesBox = h('div.call-devices', { hidden: true });
  ui.title = h('h2.call-title');
  ui.view = h('section.call-view', { 'aria-label': 'Call' },
    h('header.call-head', ui.title),
    ui.grid, ui.devicesBox, ui.controls);
  document.body.append(ui.view);
}

function tile(uid, name) {
  let t = ui.tiles.get(uid);
  if (t) return t;
  const video = h('video.call-video', { autoplay: true, playsinline: true });
  const label = h('span.call-name', name);
  const quality = h('span.call-quality');
  const el = h('figure.call-tile', { dataset: { user: uid } }, video, h('figcaption', label), quality);
  t = { el, video, label, quality };
  ui.tiles.set(uid, t);
  return t;
}

function drawView(s) {
  if (!s.call && !s.joining) {
    if (ui.view) {
      ui.view.hidden = true;
      document.body.classList.remove('in-call');
    }
    for (const t of ui.tiles.values()) t.video.srcObject = null;
    ui.tiles.clear();
    if (ui.localTile) ui.localTile.video.srcObject = null;
    return;
  }
  ensureView();
  ui.view.hidden = false;
  document.body.classList.add('in-call');
  const roomId = s.call ? s.call.roomId : null;
  ui.title.textContent = s.call ? `Call · ${roomTitle(roomId)}` : 'Connecting…';

  // Remote tiles: one per participant but me.
  const others = s.call ? [...s.call.participants.values()].filter((p) => p.id !== s.me) : [];
  const keep = new Set(others.map((p) => p.id));
  for (const [uid, t] of ui.tiles) {
    if (!keep.has(uid)) {
      t.video.srcObject = null;
      t.el.remove();
      ui.tiles.delete(uid);
    }
  }
  const nodes = [];
  for (const p of others) {
    const t = tile(p.id, p.name);
    const peer = s.peers.find((x) => x.uid === p.id);
    if (peer && t.video.srcObject !== peer.stream) t.video.srcObject = peer.stream;
    t.label.textContent = `${p.name}${p.muted ? ' · muted' : ''}${p.screen ? ' · sharing' : ''}`;
    t.quality.textContent = peer ? peer.quality : '';
    t.quality.dataset.q = peer ? (peer.quality || '').split(' ')[0] : '';
    t.el.classList.toggle('no-video', !p.video);
    nodes.push(t.el);
  }
  if (!others.length && s.call) nodes.push(h('p.call-waiting', 'Ringing… waiting for someone to answer.'));

  // The local preview: the camera, or the screen while sharing.
  if (!ui.localTile) {
    const video = h('video.call-video', { autoplay: true, playsinline: true, muted: true });
    video.muted = true;
    ui.localTile = { video, el: h('figure.call-tile.call-self', video, h('figcaption', h('span.call-name', 'You'))) };
  }
  const preview = s.screenTrack ? new MediaStream([s.screenTrack]) : s.local;
  const previewKey = s.screenTrack ? s.screenTrack.id : s.local ? s.local.id : '';
  if (ui.localTile.key !== previewKey) {
    ui.localTile.key = previewKey;
    ui.localTile.video.srcObject = preview || null;
  }
  ui.localTile.el.classList.toggle('no-video', s.cameraOff && !s.screenTrack);
  ui.localTile.el.querySelector('.call-name').textContent = s.screenTrack ? 'You · your screen' : s.muted ? 'You · muted' : 'You';
  nodes.push(ui.localTile.el);
  ui.grid.replaceChildren(...nodes);
  ui.grid.dataset.count = String(others.length || 1);

  clear(ui.controls).append(
    button('call-mute', s.muted ? 'Unmute' : 'Mute', () => calls.setMuted(!s.muted), s.muted),
    button('call-camera', s.cameraOff ? 'Camera on' : 'Camera off', () => calls.setCameraOff(!s.cameraOff), s.cameraOff),
    navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia
      ? button('call-screen', s.screenTrack ? 'Stop sharing' : 'Share screen', () => calls.shareScreen(!s.screenTrack), !!s.screenTrack)
      : null,
    button('call-devices-btn', 'Devices', () => toggleDevices()),
    h('button.btn.btn-danger.call-btn.call-hangup', { type: 'button', onclick: () => calls.hangUp(), disabled: !s.call }, 'Hang up'));
}

async function toggleDevices() {
  if (!ui.devicesBox.hidden) {
    ui.devicesBox.hidden = true;
    return;
  }
  let list;
  try {
    list = await calls.devices();
  } catch {
    toast('Cannot list the devices.', 'error');
    return;
  }
  const pick = (kind, items, label) => h('label.call-device', label,
    h('select', { onchange: (e) => calls.useDevice(kind, e.target.value).catch((err) => toast(`Cannot switch: ${err.message}`, 'error')) },
      items.map((d, i) => h('option', { value: d.deviceId }, d.label || `${label} ${i + 1}`))));
  clear(ui.devicesBox).append(pick('audio', list.audio, 'Microphone'), pick('video', list.video, 'Camera'));
  ui.devicesBox.hidden = false;
}

function draw() {
  const s = calls.state();
  drawBanner(s);
  drawView(s);
}

/** Starts the call UI for the signed-in user (idempotent). */
export function start(user) {
  calls.start(user);
  if (ui.started) return;
  ui.started = true;
  calls.listen((ev) => {
    if (ev.type === 'error') toast(ev.message, 'error');
    else if (ev.type === 'info') toast(ev.message);
    else draw();
  });
  draw();
}

/** Signing out: leaves any call (before the socket closes) and forgets incoming ones. */
export function stop() {
  calls.hangUp();
  for (const ev of calls.state().incoming) calls.forget(ev.call_id);
  draw();
}

/** The button a room's header shows. */
export function callButton(roomId, archived) {
  return h('button.btn.btn-small.call-start', {
    type: 'button',
    disabled: archived,
    title: archived ? 'Unarchive the conversation to call' : 'Start a call (or join the one in progress)',
    onclick: () => calls.startCall(roomId),
  }, 'Call');
}
