// Calls: the tab's side of docs/api.md "Calls". Signaling goes over the
// tab's one WebSocket (messages-live.js); media goes browser to browser, a
// full mesh of RTCPeerConnections (at most 4 people, a rule the server
// keeps). Each pair negotiates with the "perfect negotiation" pattern: the
// one whose user id sorts first is polite (rolls back its own offer on a
// collision), so glare cannot break a call. An ICE failure restarts ICE
// instead of dropping the peer.
//
// Not here: drawing (call-ui.js). Listeners get {type:'change'} whenever
// anything they show changed, and {type:'error', message} for a refusal.

import { api } from './api.js';
import * as live from './messages-live.js';

const QUALITY_EVERY_MS = 2000;
const DISCONNECTED_RESTART_MS = 2500;

const st = {
  started: false,
  me: null,
  call: null, // {id, roomId, participants: Map(id -> {id, name, muted, video, screen})}
  joining: null, // a room id or call id while media is being set up
  incoming: new Map(), // call id -> the call.ringing event
  peers: new Map(), // user id -> peer
  local: null, // MediaStream: the microphone and the camera
  screenTrack: null,
  muted: false,
  cameraOff: false,
  iceServers: [],
  iceTransportPolicy: 'all',
  listeners: new Set(),
  qualityTimer: null,
};

export function listen(fn) {
  st.listeners.add(fn);
  return () => st.listeners.delete(fn);
}

function emit(ev = { type: 'change' }) {
  for (const fn of [...st.listeners]) {
    try {
      fn(ev);
    } catch (e) {
      console.error(e);
    }
  }
}

/** What the view draws; everything borrowed, read-only. */
export function state() {
  return {
    call: st.call,
    joining: st.joining,
    incoming: [...st.incoming.values()],
    peers: [...st.peers.values()],
    local: st.local,
    screenTrack: st.screenTrack,
    muted: st.muted,
    cameraOff: st.cameraOff,
    me: st.me,
  };
}

// ---- Signaling ------------------------------------------------------------------

function send(obj) {
  if (!live.send(obj)) {
    emit({ type: 'error', message: 'Not connected to the server: try again in a moment.' });
    return false;
  }
  return true;
}

function signal(to, data) {
  if (st.call) send({ type: 'call.signal', call_id: st.call.id, to, data });
}

function sendState() {
  if (!st.call) return;
  send({ type: 'call.state', call_id: st.call.id, muted: st.muted, video: !st.cameraOff || !!st.screenTrack, screen: !!st.screenTrack });
}

function onEvent(ev) {
  switch (ev.type) {
    case 'call.ringing':
      if (ev.from && ev.from.id !== st.me && !(st.call && st.call.id === ev.call_id)) {
        st.incoming.set(ev.call_id, ev);
        emit();
      }
      break;
    case 'call.joined':
      if (ev.you) {
        setCall(ev);
      } else if (st.call && st.call.id === ev.call_id) {
        setParticipants(ev);
      } else if (ev.user && ev.user.id === st.me) {
        st.incoming.delete(ev.call_id); // answered in another tab
      }
      emit();
      break;
    case 'call.left':
      if (st.call && st.call.id === ev.call_id) {
        closePeer(ev.user.id);
        setParticipants(ev);
      }
      emit();
      break;
    case 'call.declined':
      if (ev.user && ev.user.id === st.me) st.incoming.delete(ev.call_id);
      if (st.call && st.call.id === ev.call_id) emit({ type: 'info', message: `${ev.user.name} declined.` });
      emit();
      break;
    case 'call.missed':
    case 'call.ended':
      st.incoming.delete(ev.call_id);
      if (st.call && st.call.id === ev.call_id) teardown();
      emit();
      break;
    case 'call.signal':
      if (st.call && st.call.id === ev.call_id) onSignal(ev.from, ev.data);
      break;
    case 'call.state':
      if (st.call && st.call.id === ev.call_id && ev.user) {
        const p = st.call.participants.get(ev.user.id);
        if (p) Object.assign(p, ev.user);
        emit();
      }
      break;
    case 'call.error':
      if (st.joining && !st.call) {
        st.joining = null;
        stopLocal();
      }
      emit({ type: 'error', message: ev.message || 'The call was refused.' });
      emit();
      break;
    case 'status':
      // The socket dropped: the server has taken us out of the call.
      if (!ev.connected && st.call) {
        teardown();
        emit({ type: 'error', message: 'The connection to the server dropped: the call ended.' });
        emit();
      }
      break;
    default:
      break;
  }
}

function setParticipants(ev) {
  st.call.participants = new Map(ev.participants.map((p) => [p.id, { ...p }]));
}

function setCall(ev) {
  st.joining = null;
  st.incoming.delete(ev.call_id);
  st.call = { id: ev.call_id, roomId: ev.room_id, startedAt: ev.started_at, participants: new Map() };
  setParticipants(ev);
  // The one who joins calls everyone already there; they answer.
  for (const p of ev.participants) if (p.id !== st.me) peer(p.id);
  sendState();
  startQuality();
}

// ---- Peers -------------------------------------------------------------------------

function peer(uid) {
  let p = st.peers.get(uid);
  if (p) return p;
  const pc = new RTCPeerConnection({ iceServers: st.iceServers, iceTransportPolicy: st.iceTransportPolicy });
  p = {
    uid,
    pc,
    polite: st.me < uid,
    makingOffer: false,
    ignoreOffer: false,
    queue: Promise.resolve(),
    stream: new MediaStream(),
    quality: '',
    restartTimer: null,
  };
  st.peers.set(uid, p);
  for (const t of st.local ? st.local.getTracks() : []) {
    const sender = pc.addTrack(t, st.local);
    if (t.kind === 'audio' && st.muted) sender.replaceTrack(null);
    if (t.kind === 'video') {
      if (st.screenTrack) sender.replaceTrack(st.screenTrack);
      else if (st.cameraOff) sender.replaceTrack(null);
    }
  }
  pc.onnegotiationneeded = async () => {
    try {
      p.makingOffer = true;
      await pc.setLocalDescription();
      signal(uid, { description: pc.localDescription });
    } catch (e) {
      console.warn('offer', e);
    } finally {
      p.makingOffer = false;
    }
  };
  pc.onicecandidate = ({ candidate }) => {
    if (candidate) signal(uid, { candidate });
  };
  pc.ontrack = ({ track }) => {
    p.stream.addTrack(track);
    track.onunmute = () => emit();
    emit();
  };
  pc.oniceconnectionstatechange = () => {
    const s = pc.iceConnectionState;
    clearTimeout(p.restartTimer);
    if (s === 'failed') {
      pc.restartIce();
    } else if (s === 'disconnected') {
      // A blip: give it a moment, then restart rather than drop.
      p.restartTimer = setTimeout(() => {
        if (pc.iceConnectionState === 'disconnected') pc.restartIce();
      }, DISCONNECTED_RESTART_MS);
    }
    emit();
  };
  return p;
}

function onSignal(from, data) {
  if (!data || typeof data !== 'object') return;
  const p = peer(from);
  // One signal at a time per peer, in the order they came.
  p.queue = p.queue.then(() => handleSignal(p, data)).catch((e) => console.warn('signal', e));
}

async function handleSignal(p, data) {
  const { pc } = p;
  if (data.description) {
    const d = data.description;
    const collision = d.type === 'offer' && (p.makingOffer || pc.signalingState !== 'stable');
    p.ignoreOffer = !p.polite && collision;
    if (p.ignoreOffer) return;
    await pc.setRemoteDescription(d); // a polite peer rolls its own offer back here
    if (d.type === 'offer') {
      await pc.setLocalDescription();
      signal(p.uid, { description: pc.localDescription });
    }
  } else if (data.candidate) {
    try {
      await pc.addIceCandidate(data.candidate);
    } catch (e) {
      if (!p.ignoreOffer) throw e;
    }
  }
}

function closePeer(uid) {
  const p = st.peers.get(uid);
  if (!p) return;
  clearTimeout(p.restartTimer);
  p.pc.close();
  st.peers.delete(uid);
}

// ---- Local media --------------------------------------------------------------------

async function openLocal() {
  try {
    st.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  } catch {
    // No camera (or refused): a voice call.
    st.local = await navigator.mediaDevices.getUserMedia({ audio: true });
  }
  st.muted = false;
  st.cameraOff = false;
}

function stopLocal() {
  for (const t of st.local ? st.local.getTracks() : []) t.stop();
  if (st.screenTrack) st.screenTrack.stop();
  st.local = null;
  st.screenTrack = null;
}

async function loadIce() {
  try {
    const r = await api('/calls/ice');
    st.iceServers = r.ice_servers || [];
  } catch {
    st.iceServers = [];
  }
  // For tests and for networks where only a relay gets through.
  st.iceTransportPolicy = sessionStorage.getItem('stint.iceTransportPolicy') === 'relay' ? 'relay' : 'all';
}

async function prepare(what) {
  if (st.call || st.joining) {
    emit({ type: 'error', message: 'You are already in a call: hang up first.' });
    return false;
  }
  st.joining = what;
  emit();
  try {
    await Promise.all([openLocal(), loadIce()]);
  } catch (e) {
    st.joining = null;
    emit({ type: 'error', message: `Cannot use the microphone: ${e.message || e.name}.` });
    emit();
    return false;
  }
  return true;
}

// ---- Actions ---------------------------------------------------------------------------

/** Calls the room (joins the call in progress there, if any). */
export async function startCall(roomId) {
  if (!(await prepare(roomId))) return;
  if (!send({ type: 'call.start', room_id: roomId })) abandon();
}

export async function accept(callId) {
  if (!(await prepare(callId))) return;
  if (!send({ type: 'call.accept', call_id: callId })) abandon();
}

export function decline(callId) {
  st.incoming.delete(callId);
  send({ type: 'call.decline', call_id: callId });
  emit();
}

/** Stops ringing for callId in this tab only (signing out). */
export function forget(callId) {
  st.incoming.delete(callId);
}

function abandon() {
  st.joining = null;
  stopLocal();
  emit();
}

function teardown() {
  for (const uid of [...st.peers.keys()]) closePeer(uid);
  stopLocal();
  st.call = null;
  st.joining = null;
  clearInterval(st.qualityTimer);
  st.qualityTimer = null;
}

export function hangUp() {
  if (!st.call) return;
  send({ type: 'call.leave', call_id: st.call.id });
  teardown();
  emit();
}

function senders(kind) {
  const out = [];
  for (const p of st.peers.values()) {
    for (const s of p.pc.getSenders()) {
      const tr = p.pc.getTransceivers().find((t) => t.sender === s);
      if ((s.track && s.track.kind === kind) || (tr && tr.receiver.track && tr.receiver.track.kind === kind)) out.push(s);
    }
  }
  return out;
}

function localTrack(kind) {
  return st.local ? st.local.getTracks().find((t) => t.kind === kind) || null : null;
}

/** Mute stops sending audio at all (no packets), not only silence. */
export function setMuted(muted) {
  st.muted = muted;
  const t = localTrack('audio');
  if (t) t.enabled = !muted;
  for (const s of senders('audio')) s.replaceTrack(muted ? null : t);
  sendState();
  emit();
}

function videoTrackToSend() {
  if (st.screenTrack) return st.screenTrack;
  return st.cameraOff ? null : localTrack('video');
}

export function setCameraOff(off) {
  st.cameraOff = off;
  const t = localTrack('video');
  if (t) t.enabled = !off;
  for (const s of senders('video')) s.replaceTrack(videoTrackToSend());
  sendState();
  emit();
}

export async function shareScreen(on) {
  if (!on) {
    if (st.screenTrack) st.screenTrack.stop();
    st.screenTrack = null;
  } else {
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (e) {
      emit({ type: 'error', message: `Screen sharing did not start: ${e.message || e.name}.` });
      return;
    }
    st.screenTrack = stream.getVideoTracks()[0];
    st.screenTrack.onended = () => shareScreen(false);
  }
  for (const s of senders('video')) await s.replaceTrack(videoTrackToSend());
  sendState();
  emit();
}

export async function devices() {
  const all = await navigator.mediaDevices.enumerateDevices();
  return {
    audio: all.filter((d) => d.kind === 'audioinput'),
    video: all.filter((d) => d.kind === 'videoinput'),
  };
}

/** Switches the microphone or the camera to deviceId without renegotiating. */
export async function useDevice(kind, deviceId) {
  if (!st.local) return;
  const constraints = kind === 'audio'
    ? { audio: { deviceId: { exact: deviceId } } }
    : { video: { deviceId: { exact: deviceId }, width: 640, height: 480 } };
  const stream = await navigator.mediaDevices.getUserMedia(constraints);
  const fresh = stream.getTracks()[0];
  const old = localTrack(kind);
  if (old) {
    st.local.removeTrack(old);
    old.stop();
  }
  st.local.addTrack(fresh);
  if (kind === 'audio') setMuted(st.muted);
  else setCameraOff(st.cameraOff);
}

// ---- Quality -------------------------------------------------------------------------------

/** Per peer: what arrives and over which path (also what the tests read). */
export async function stats() {
  const out = [];
  for (const p of st.peers.values()) {
    const r = { uid: p.uid, video: null, audio: null, pair: null, ice: p.pc.iceConnectionState };
    const report = await p.pc.getStats();
    const byId = new Map();
    report.forEach((s) => byId.set(s.id, s));
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        r.video = { framesDecoded: s.framesDecoded || 0, frameWidth: s.frameWidth || 0, frameHeight: s.frameHeight || 0, packetsLost: s.packetsLost || 0, packetsReceived: s.packetsReceived || 0 };
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        r.audio = { packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0 };
      }
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = byId.get(s.selectedCandidatePairId);
        if (pair) {
          const local = byId.get(pair.localCandidateId) || {};
          const remote = byId.get(pair.remoteCandidateId) || {};
          r.pair = { local: local.candidateType, remote: remote.candidateType, rtt: pair.currentRoundTripTime };
        }
      }
    });
    out.push(r);
  }
  return out;
}

const lastCounts = new Map();

async function measure() {
  let list;
  try {
    list = await stats();
  } catch {
    return;
  }
  for (const r of list) {
    const p = st.peers.get(r.uid);
    if (!p) continue;
    const got = (r.audio ? r.audio.packetsReceived : 0) + (r.video ? r.video.packetsReceived : 0);
    const lost = (r.audio ? r.audio.packetsLost : 0) + (r.video ? r.video.packetsLost : 0);
    const prev = lastCounts.get(r.uid) || { got: 0, lost: 0 };
    lastCounts.set(r.uid, { got, lost });
    const dGot = got - prev.got, dLost = Math.max(0, lost - prev.lost);
    const lossPct = dGot + dLost > 0 ? (100 * dLost) / (dGot + dLost) : 0;
    const rtt = r.pair && r.pair.rtt ? r.pair.rtt * 1000 : 0;
    let q;
    if (r.ice === 'checking' || r.ice === 'new') q = 'connecting';
    else if (r.ice === 'disconnected' || r.ice === 'failed') q = 'reconnecting';
    else if (lossPct > 8 || rtt > 500) q = 'poor';
    else if (lossPct > 2 || rtt > 200) q = 'fair';
    else q = 'good';
    if (r.pair && (r.pair.local === 'relay' || r.pair.remote === 'relay')) q += ' · relayed';
    if (q !== p.quality) {
      p.quality = q;
      emit();
    }
  }
}

function startQuality() {
  clearInterval(st.qualityTimer);
  lastCounts.clear();
  st.qualityTimer = setInterval(measure, QUALITY_EVERY_MS);
}

// ---- Start ----------------------------------------------------------------------------------

/** Starts listening for calls (idempotent); leaving the page hangs up cleanly. */
export function start(user) {
  st.me = user.id;
  if (st.started) return;
  st.started = true;
  live.listen(onEvent);
  window.addEventListener('pagehide', () => hangUp());
  // The tests read the media statistics through this.
  window.stintCalls = { stats, state };
}
