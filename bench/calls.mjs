// Calls: the time from the callee's "Accept" to the first decoded video
// frame, on each side, browser to browser (two contexts of Debian's
// chromium with a fake camera and microphone, over loopback, no ICE
// servers), over CALLS calls in a row. Prints each and the median.
// Prints figures; asserts nothing beyond the calls connecting.
//
// usage: STINT_BUILD_ROOT=BUILD node bench/calls.mjs [CALLS]   (bench/calls.sh)

import {
  W, startServer, ok, person, contract, launch, newSession, signIn, teardown, WAIT,
} from '../tests/e2e/e2e.mjs';

const CALLS = Number(process.argv[2] || process.env.CALLS || 5);
const MEDIA_ARGS = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection'];

/** In the page: polls getStats every 5 ms until a video frame is decoded; Date.now() then. */
function firstFrame(page) {
  return page.evaluate(async () => {
    for (;;) {
      const s = window.stintCalls ? await window.stintCalls.stats() : [];
      if (s.length && s[0].video && s[0].video.framesDecoded > 0) return Date.now();
      await new Promise((r) => setTimeout(r, 5));
    }
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function run() {
  await startServer();
  await launch(MEDIA_ARGS);
  const a = await person('client', 'Carla Client', 'carla@bench.test');
  const b = await person('freelancer', 'Fred Freelancer', 'fred@bench.test');
  const room = `c-${(await contract(a, b, 'Bench')).id}`;
  const A = await newSession('a', { permissions: ['camera', 'microphone'] });
  const B = await newSession('b', { permissions: ['camera', 'microphone'] });
  await signIn(A.page, a);
  await signIn(B.page, b);
  await A.page.goto(`${W.base}/#/messages/${encodeURIComponent(room)}`);
  await A.page.waitForSelector('.composer-input', WAIT);
  const callerMs = [], calleeMs = [];
  for (let i = 0; i < CALLS; i++) {
    await A.page.click('.call-start');
    await B.page.locator('.call-banner').waitFor({ state: 'visible', ...WAIT });
    const fa = firstFrame(A.page), fb = firstFrame(B.page);
    const t0 = Date.now();
    await B.page.click('.call-accept');
    const [ta, tb] = await Promise.all([fa, fb]);
    callerMs.push(ta - t0);
    calleeMs.push(tb - t0);
    console.log(`call ${i + 1}: accept → first decoded frame: caller ${ta - t0} ms, callee ${tb - t0} ms`);
    await A.page.click('.call-hangup');
    await B.page.waitForFunction(() => { const v = document.querySelector('.call-view'); return !v || v.hidden; }, null, WAIT);
    await A.page.waitForFunction(() => !document.querySelector('.call-banner:not([hidden])'), null, WAIT);
  }
  console.log(`calls=${CALLS} caller_p50_ms=${median(callerMs)} callee_p50_ms=${median(calleeMs)} caller_max_ms=${Math.max(...callerMs)} callee_max_ms=${Math.max(...calleeMs)}`);
}

run().then(() => teardown()).catch(async (e) => {
  console.error(`bench calls failed: ${e.stack || e}`);
  await teardown();
  process.exit(1);
});
