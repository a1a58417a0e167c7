// End-to-end tests of calls in the web app: a real stintd, and browser
// contexts of Debian's chromium with a fake camera and microphone, calling
// each other over loopback (iceServers: [], --allow-loopback-in-peer-
// connection). What is asserted is what arrives, read from each side's
// getStats(): decoded video frames and received audio packets, per peer.
// Screenshots of the call view (1920 and 360 px wide) go to
// $STINT_BUILD_ROOT/e2e-shots/calls-*.png.
//
// Run: node tests/e2e/test-calls.mjs [name-filter]   (after `npm ci` and a build)

import {
  W, test, assert, eq, until, startServer, ok, person, contract, launch, newSession, signIn, shot, main,
  consoleProblems, WAIT,
} from './e2e.mjs';

const MEDIA_ARGS = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required'];
const PERMS = ['camera', 'microphone'];

const stats = (page) => page.evaluate(() => window.stintCalls.stats());
const threadUrl = (id) => `${W.base}/#/messages/${encodeURIComponent(id)}`;

/** Every peer of page shows decoded video and received audio; returns the stats. */
async function mediaFlows(page, peers, what) {
  let last = [];
  return until(async () => {
    last = await stats(page);
    return last.length === peers && last.every((s) => s.video && s.video.framesDecoded > 0 && s.audio && s.audio.packetsReceived > 0) && last;
  }, () => `${what}: media does not arrive: ${JSON.stringify(last)}`, 20000);
}

async function audioPackets(page) {
  return (await stats(page))[0].audio.packetsReceived;
}

async function openRoom(page, roomId) {
  await page.goto(threadUrl(roomId));
  await page.waitForSelector('.composer-input', WAIT);
}

async function callViewOpen(page, open) {
  await page.waitForFunction((o) => {
    const v = document.querySelector('.call-view');
    return o ? !!v && !v.hidden : !v || v.hidden;
  }, open, WAIT);
}

async function waitMessage(page, re) {
  await page.waitForFunction((src) => [...document.querySelectorAll('.msg-list .msg-text')].some((e) => new RegExp(src).test(e.textContent)), re.source, WAIT);
}

test('a 1:1 call: each side decodes the other’s video and receives its audio', async () => {
  W.a = await newSession('client', { permissions: PERMS });
  W.b = await newSession('freelancer', { permissions: PERMS });
  await signIn(W.a.page, W.client);
  await signIn(W.b.page, W.fl);
  await openRoom(W.a.page, W.room);
  await W.a.page.click('.call-start');
  await callViewOpen(W.a.page, true);
  // The callee is on another page: the banner finds them there.
  const banner = W.b.page.locator('.call-banner');
  await banner.waitFor({ state: 'visible', ...WAIT });
  assert((await banner.innerText()).includes('Carla Client is calling'), 'the banner names the caller');
  await shot(W.b.page, 'calls-banner-1920');
  W.t0 = Date.now();
  await W.b.page.click('.call-accept');
  await callViewOpen(W.b.page, true);
  await mediaFlows(W.a.page, 1, 'the caller');
  await mediaFlows(W.b.page, 1, 'the callee');
  W.firstFrameMs = Date.now() - W.t0;
  eq(await W.b.page.locator('.call-banner').isVisible(), false, 'the banner is gone once accepted');
});

test('the call view at 1920 and at 360 px wide', async () => {
  await until(async () => (await W.a.page.locator('.call-tile:not(.call-self) .call-quality').innerText()).length > 0, 'a quality hint');
  await shot(W.a.page, 'calls-view-1920');
  await W.b.page.setViewportSize({ width: 360, height: 740 });
  await W.b.page.waitForTimeout(300);
  const { sw, cw } = await W.b.page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert(sw <= cw + 1, `the call view scrolls sideways at 360 px (${sw} > ${cw})`);
  const box = await W.b.page.locator('.call-hangup').boundingBox();
  assert(box && box.x >= 0 && box.x + box.width <= 360 && box.y + box.height <= 740, `hang up is on screen: ${JSON.stringify(box)}`);
  await shot(W.b.page, 'calls-view-360');
  await W.b.page.setViewportSize({ width: 1920, height: 1080 });
});

test('mute stops the other side’s audio packets; unmute brings them back', async () => {
  const before = await audioPackets(W.b.page);
  await W.b.page.waitForTimeout(1000);
  assert(await audioPackets(W.b.page) > before + 10, 'audio flows before mute');
  await W.a.page.click('.call-mute');
  await W.b.page.waitForSelector('.call-tile .call-name:text-matches("muted")', WAIT);
  await W.b.page.waitForTimeout(800); // what was in flight arrives
  const p1 = await audioPackets(W.b.page);
  await W.b.page.waitForTimeout(2000);
  const p2 = await audioPackets(W.b.page);
  assert(p2 - p1 <= 2, `audio still flows while muted: ${p1} -> ${p2}`);
  await W.a.page.click('.call-mute');
  await until(async () => await audioPackets(W.b.page) > p2 + 10, 'audio after unmute');
});

test('screen share replaces the video track: the receiver’s frames change size', async () => {
  const cam = (await stats(W.b.page))[0].video;
  await W.a.page.click('.call-screen');
  await W.a.page.waitForSelector('.call-screen[aria-pressed="true"]', WAIT);
  const shared = await until(async () => {
    const v = (await stats(W.b.page))[0].video;
    return v.frameWidth && (v.frameWidth !== cam.frameWidth || v.frameHeight !== cam.frameHeight) && v;
  }, 'the received video changes size');
  await until(async () => (await stats(W.b.page))[0].video.framesDecoded > shared.framesDecoded + 5, 'frames of the screen keep coming');
  await W.b.page.waitForSelector('.call-tile .call-name:text-matches("sharing")', WAIT);
  await shot(W.a.page, 'calls-sharing-1920');
  await W.a.page.click('.call-screen');
  await until(async () => {
    const v = (await stats(W.b.page))[0].video;
    return v.frameWidth === cam.frameWidth && v.frameHeight === cam.frameHeight;
  }, 'the camera is back');
});

test('hang up ends the call on both sides, and the room says how long it was', async () => {
  await W.a.page.click('.call-hangup');
  await callViewOpen(W.a.page, false);
  await callViewOpen(W.b.page, false);
  await waitMessage(W.a.page, /^call ended, \d+ (s|min)$/);
  await openRoom(W.b.page, W.room);
  await waitMessage(W.b.page, /^call ended, \d+ (s|min)$/);
  await waitMessage(W.b.page, /^call started$/);
  const calls = (await ok('GET', `/rooms/${W.room}/calls`, undefined, W.fl.token)).calls;
  eq(calls[0].outcome, 'completed', 'the call’s outcome');
});

test('a 3-person call: every pair receives media', async () => {
  W.c = await newSession('second freelancer', { permissions: PERMS, width: 360, height: 740 });
  await signIn(W.c.page, W.fl2);
  await openRoom(W.a.page, W.group);
  await W.a.page.click('.call-start');
  await callViewOpen(W.a.page, true);
  for (const s of [W.b, W.c]) {
    await s.page.locator('.call-banner').waitFor({ state: 'visible', ...WAIT });
    if (s === W.c) await shot(s.page, 'calls-banner-360');
    await s.page.click('.call-accept');
  }
  for (const [s, who] of [[W.a, 'client'], [W.b, 'freelancer'], [W.c, 'second freelancer']]) {
    await mediaFlows(s.page, 2, who);
  }
  await until(async () => (await W.a.page.locator('.call-tile:not(.call-self)').count()) === 2, 'two tiles');
  await shot(W.a.page, 'calls-three-1920');
  await shot(W.c.page, 'calls-three-360');
  // Leaving the page hangs up: the others see the one who left go.
  await W.c.page.close();
  await until(async () => (await stats(W.a.page)).length === 1, 'the one who closed the page is gone');
  await until(async () => (await stats(W.b.page)).length === 1, 'gone for the other too');
  await W.b.page.click('.call-hangup');
  await callViewOpen(W.a.page, false);
});

test('signing out in a call leaves it', async () => {
  await openRoom(W.a.page, W.room);
  await W.a.page.click('.call-start');
  await W.b.page.locator('.call-banner').waitFor({ state: 'visible', ...WAIT });
  await W.b.page.click('.call-accept');
  await mediaFlows(W.a.page, 1, 'the caller');
  // The call view covers the bar; the button is still reachable from the keyboard.
  await W.b.page.evaluate(() => document.getElementById('signout').click());
  await callViewOpen(W.b.page, false);
  await callViewOpen(W.a.page, false);
  const calls = (await ok('GET', `/rooms/${W.room}/calls`, undefined, W.client.token)).calls;
  eq(calls[0].outcome, 'completed', 'the call ended');
});

test('no errors in the consoles', async () => {
  eq(consoleProblems, [], 'console errors');
  if (W.firstFrameMs) console.log(`# accept to media both ways: ${W.firstFrameMs} ms`);
});

main(async () => {
  await startServer();
  await launch(MEDIA_ARGS);
  W.client = await person('client', 'Carla Client', 'carla@e2e.test');
  W.fl = await person('freelancer', 'Fred Freelancer', 'fred@e2e.test');
  W.fl2 = await person('freelancer', 'Gina Freelancer', 'gina@e2e.test');
  const c = await contract(W.client, W.fl, 'Landing page redesign');
  await contract(W.client, W.fl2, 'Copy editing');
  W.room = `c-${c.id}`;
  W.group = (await ok('POST', '/rooms', { title: 'Launch team', member_ids: [W.fl.id, W.fl2.id] }, W.client.token)).room.id;
});
