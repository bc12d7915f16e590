// One node of the two-VM pwru test (tools/vm/pair.sh runs it in both VMs; BPF_TS_VM_NODE says
// which). Each VM brings up its virtio NIC, starts pwru on its own kernel (JSON events after a
// clock reference), and then:
//   b: sets its wall clock 2.5 s ahead, drops UDP port 9999 and DNATs UDP 8080 to its port 7777
//      (iptables), echoes on 7777, counts the bytes of TCP connections to 6000, and answers
//      control messages on 5555;
//   a: waits for b, measures b's clock against its own over UDP (Cristian: the reply's time lies
//      between the request's send and the reply's receive), sends one packet to b:9999 (dropped
//      on b) and one to b:8080 (DNAT, answered), sends TCP_BYTES to b:6000 on one connection
//      (many segments with one tuple and flags, told apart by seq), then tells b it is done.
// Each writes <node>.json (its pwru stream) to $BPF_TS_VM_OUT; a also writes cristian.json.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';
import { existsSync, openSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';

const node = process.env.BPF_TS_VM_NODE;
const out = process.env.BPF_TS_VM_OUT;
if (node !== 'a' && node !== 'b') throw new Error('BPF_TS_VM_NODE must be a or b (run through tools/vm/pair.sh)');
const repo = new URL('../../..', import.meta.url).pathname;
const pwru = join(repo, 'packages/pwru/bin/pwru.js');
const ADDR = { a: '10.99.0.1', b: '10.99.0.2' };
/** The TCP transfer a -> b: about 20 full-sized segments. */
const TCP_BYTES = 28 * 1024;
const me = ADDR[node];
const log = (m) => console.log(`${(performance.now() / 1000).toFixed(1)}s ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error}`);
  return r.stdout;
};

// The NIC.
run('modprobe', ['virtio_net']);
let nic;
for (let i = 0; i < 100 && !nic; i++) {
  nic = readdirSync('/sys/class/net').find((n) => n !== 'lo' && existsSync(`/sys/class/net/${n}/device`));
  if (!nic) await sleep(100);
}
if (!nic) throw new Error('no virtio NIC appeared');
run('ip', ['link', 'set', 'dev', nic, 'up']);
run('ip', ['addr', 'add', `${me}/24`, 'dev', nic]);
log(`${nic} up as ${me}`);

if (node === 'b') {
  // Its own clock: 2.5 s ahead of a's (both VMs start from the host's RTC).
  run('date', ['-s', `@${(Date.now() / 1000 + 2.5).toFixed(3)}`]);
  const ipt = ['iptables', 'iptables-legacy'].find((c) => spawnSync(c, ['-w', '10', '-L', 'INPUT', '-n']).status === 0);
  if (!ipt) throw new Error('no working iptables');
  run(ipt, ['-w', '10', '-I', 'INPUT', '1', '-p', 'udp', '--dport', '9999', '-j', 'DROP']);
  run(ipt, [
    '-w',
    '10',
    '-t',
    'nat',
    '-I',
    'PREROUTING',
    '1',
    '-p',
    'udp',
    '--dport',
    '8080',
    '-j',
    'DNAT',
    '--to-destination',
    `${ADDR.b}:7777`,
  ]);
  log(`${ipt}: DROP udp/9999, DNAT udp/8080 -> 7777`);
}

// pwru, its stream after the clock reference.
const stream = join(out, `${node}.json`);
writeFileSync(stream, run('node', [pwru, 'timeline', 'clock', '--node', node]));
const fd = openSync(stream, 'a');
const filter = '(udp or tcp port 6000) and net 10.99.0.0/24';
const child = spawn('node', [pwru, '--output-json', '--output-tcp-flags', '--timestamp', 'current', filter], {
  stdio: ['ignore', fd, 'pipe'],
});
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));
const exited = new Promise((r) => child.on('exit', (code, sig) => r(code ?? sig)));
for (let i = 0; !/Listening for events/.test(stderr); i++) {
  if (i > 1200 || child.exitCode !== null) throw new Error(`pwru did not start:\n${stderr}`);
  await sleep(100);
}
log('pwru listening');
const stopPwru = async () => {
  await sleep(1000); // events still in the ring buffer
  child.kill('SIGINT');
  const code = await exited;
  appendFileSync(join(out, `${node}.pwru.log`), stderr);
  if (code !== 0) throw new Error(`pwru exited ${code}:\n${stderr}`);
  log('pwru stopped');
};

const hr = () => String(process.hrtime.bigint());
const bind = (port) =>
  new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(port, me, () => resolve(s));
  });
// Sends msg to b and resolves with the first reply `match` accepts (late replies to earlier
// requests are skipped), stamped on arrival; undefined after timeoutMs.
const ask = (sock, msg, match, port = 5555, timeoutMs = 300) =>
  new Promise((resolve) => {
    const on = (buf) => {
      const at = hr();
      let m;
      try {
        m = JSON.parse(buf.toString());
      } catch {
        return;
      }
      if (!match(m)) return;
      clearTimeout(t);
      sock.off('message', on);
      resolve({ at, reply: m });
    };
    const t = setTimeout(() => {
      sock.off('message', on);
      resolve(undefined);
    }, timeoutMs);
    sock.on('message', on);
    sock.send(JSON.stringify(msg), port, ADDR.b);
  });

if (node === 'b') {
  const echo = await bind(7777);
  echo.on('message', (buf, from) => echo.send(buf, from.port, from.address));
  const sink = createServer((c) => {
    let n = 0;
    c.on('data', (d) => (n += d.length));
    c.on('end', () => c.end(String(n)));
  }).listen(6000, ADDR.b);
  const ctl = await bind(5555);
  const done = new Promise((resolve) => {
    ctl.on('message', (buf, from) => {
      const m = JSON.parse(buf.toString());
      const reply =
        m.type === 'time'
          ? { type: 'time', n: m.n, mono: hr() }
          : m.type === 'done'
            ? { type: 'bye' }
            : { type: 'hello' };
      ctl.send(JSON.stringify(reply), from.port, from.address);
      if (m.type === 'done') resolve();
    });
  });
  log('serving');
  let timer;
  await Promise.race([
    done,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('a never said done')), 180_000))),
  ]);
  clearTimeout(timer);
  log('a is done');
  ctl.close();
  echo.close();
  sink.close();
  await stopPwru();
} else {
  const ctl = await bind(5555);
  let hello;
  for (let i = 0; i < 600 && !hello; i++) hello = await ask(ctl, { type: 'hello' }, (m) => m.type === 'hello');
  if (!hello) throw new Error('b never answered');
  log('b answers');
  const samples = [];
  for (let n = 0; n < 10; n++) {
    const t1 = hr();
    const r = await ask(ctl, { type: 'time', n }, (m) => m.type === 'time' && m.n === n, 5555, 2000);
    if (r) samples.push({ t1, t2: r.at, tb: r.reply.mono });
  }
  if (samples.length === 0) throw new Error('b answered no clock sample');
  writeFileSync(join(out, 'cristian.json'), JSON.stringify({ samples }));
  log(`clock samples: ${samples.length}`);
  const drop = await bind(40001);
  drop.send('dropped on b', 9999, ADDR.b);
  await sleep(300);
  const nat = await bind(40002);
  let echoed;
  for (let i = 0; i < 3 && !echoed; i++)
    echoed = await ask(nat, 'through the DNAT', (m) => m === 'through the DNAT', 8080, 2000);
  if (!echoed) throw new Error('no answer through the DNAT');
  log('DNAT answered');
  const counted = await new Promise((resolve, reject) => {
    const c = createConnection({ host: ADDR.b, port: 6000, localAddress: me, localPort: 40003 }, () =>
      c.end(Buffer.alloc(TCP_BYTES, 0x61)),
    );
    let reply = '';
    c.on('data', (d) => (reply += d));
    c.on('close', () => resolve(reply));
    c.on('error', reject);
    setTimeout(() => reject(new Error('the TCP transfer did not finish in 60 s')), 60_000).unref();
  });
  if (counted !== String(TCP_BYTES)) throw new Error(`b counted ${counted} of ${TCP_BYTES} TCP bytes`);
  log(`TCP: ${TCP_BYTES} bytes to b`);
  let bye;
  for (let i = 0; i < 10 && !bye; i++) bye = await ask(ctl, { type: 'done' }, (m) => m.type === 'bye', 5555, 1000);
  if (!bye) throw new Error('b never said bye');
  for (const s of [ctl, drop, nat]) s.close();
  await stopPwru();
}
