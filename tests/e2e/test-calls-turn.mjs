// A call through a TURN relay only: the test starts Debian's coturn
// (turnserver) on a free loopback port with use-auth-secret, gives stintd
// the same secret, and has both browsers use iceTransportPolicy "relay"
// (sessionStorage 'stint.iceTransportPolicy'). The call must carry media
// both ways over a selected candidate pair of type relay, with the
// credentials from GET /calls/ice. Missing coturn fails the test.
//
// Run: node tests/e2e/test-calls-turn.mjs   (after `npm ci` and a build)

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import {
  W, test, assert, eq, until, startServer, ok, person, contract, launch, newSession, signIn, main, WAIT,
} from './e2e.mjs';

const TURNSERVER = process.env.STINT_TURNSERVER || '/usr/bin/turnserver';
const MEDIA_ARGS = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection'];
const PERMS = ['camera', 'microphone'];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startCoturn(secret) {
  if (!fs.existsSync(TURNSERVER)) throw new Error(`no turnserver at ${TURNSERVER} (apt-get install coturn)`);
  const port = await freePort();
  const relayLow = 40000 + Math.floor(Math.random() * 20000);
  const proc = spawn(TURNSERVER, ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1',
    `--listening-port=${port}`, `--min-port=${relayLow}`, `--max-port=${relayLow + 200}`,
    '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=stint.test',
    '--no-tls', '--no-dtls', '--no-cli', '--fingerprint', '--allow-loopback-peers',
    '--log-file=stdout', '--simple-log', `--pidfile=${W.data}/turnserver.pid`],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  W.turnLog = () => log;
  W.cleanups = [...(W.cleanups || []), async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => { const t = setTimeout(() => { proc.kill('SIGKILL'); r(); }, 5000); proc.on('exit', () => { clearTimeout(t); r(); }); });
    }
  }];
  // Listening once a TCP connection to its port succeeds.
  await until(() => new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  }), () => `turnserver did not listen on ${port}: ${log.slice(-2000)}`, 15000, 100);
  return port;
}

test('a call through a TURN relay only connects over a relay pair', async () => {
  const ice = await ok('GET', '/calls/ice', undefined, W.client.token);
  eq(ice.ice_servers.length, 1, 'one TURN entry');
  const sessions = [];
  for (const who of [W.client, W.fl]) {
    const s = await newSession(who.name, { permissions: PERMS });
    await s.page.addInitScript(() => sessionStorage.setItem('stint.iceTransportPolicy', 'relay'));
    await signIn(s.page, who);
    sessions.push(s);
  }
  const [a, b] = sessions.map((s) => s.page);
  await a.goto(`${W.base}/#/messages/${encodeURIComponent(W.room)}`);
  await a.waitForSelector('.composer-input', WAIT);
  await a.click('.call-start');
  await b.locator('.call-banner').waitFor({ state: 'visible', ...WAIT });
  await b.click('.call-accept');
  for (const [page, who] of [[a, 'caller'], [b, 'callee']]) {
    let last = [];
    await until(async () => {
      last = await page.evaluate(() => window.stintCalls.stats());
      const s = last[0];
      return s && s.video && s.video.framesDecoded > 0 && s.audio && s.audio.packetsReceived > 0 && s.pair;
    }, () => `${who}: no media through the relay: ${JSON.stringify(last)}\n${W.turnLog().slice(-1500)}`, 30000);
    const { pair } = last[0];
    assert(pair.local === 'relay' && pair.remote === 'relay', `${who}: the selected pair is not relay-relay: ${JSON.stringify(pair)}`);
  }
  await until(async () => /relayed/.test(await a.locator('.call-tile:not(.call-self) .call-quality').innerText()), 'the hint says relayed');
  await a.click('.call-hangup');
  await b.waitForFunction(() => { const v = document.querySelector('.call-view'); return !v || v.hidden; }, null, WAIT);
});

main(async () => {
  const secret = crypto.randomBytes(16).toString('hex');
  W.data = null;
  // coturn first (its pid file goes in a directory of its own).
  W.data = fs.mkdtempSync('/tmp/stint-e2e-turn-');
  const turnDir = W.data;
  const port = await startCoturn(secret);
  W.cleanups.push(() => fs.rmSync(turnDir, { recursive: true, force: true }));
  await startServer([], {
    STINTD_TURN_SECRET: secret,
    STINTD_TURN_URLS: `turn:127.0.0.1:${port}?transport=udp`,
  });
  await launch(MEDIA_ARGS);
  W.client = await person('client', 'Carla Client', 'carla@e2e.test');
  W.fl = await person('freelancer', 'Fred Freelancer', 'fred@e2e.test');
  W.room = `c-${(await contract(W.client, W.fl, 'Relay check')).id}`;
});
