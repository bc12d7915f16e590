import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDnat } from './dnat.js';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

// --output-ct on this machine's kernel (tracepoint backend) with real conntrack entries: a TCP
// connection from namespace A to B:8080, which B's nat table DNATs to a server on B:9090; A
// tracks its own connections too (a conntrack match in its OUTPUT chain); and a UDP datagram from
// A to a closed port of B, whose ICMP port-unreachable answer A's conntrack relates to it.
const skip = e2eSkipReason();
if (skip) console.log(`skipped: --output-ct end-to-end tests ${skip}`);

interface CtTuple {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  proto: number;
}
interface CtEvent {
  func: string;
  netns: number;
  tuple?: { saddr: string; sport: number; dport: number; flags?: string };
  ct?: { addr: string; state: string; status: string[]; orig?: CtTuple; reply?: CtTuple; mark?: number; zone?: number };
}

describe.skipIf(skip !== undefined)('--output-ct (tracepoint backend, real conntrack)', () => {
  let net: NetnsPair;
  let events: CtEvent[] = [];
  let text = '';
  let icmp: CtEvent[] = [];
  beforeAll(async () => {
    net = new NetnsPair();
    addDnat(net, { chain: 'PREROUTING', port: 8080, toPort: 9090 });
    net.exec(net.nsA, [
      'iptables',
      '-w',
      '10',
      '-A',
      'OUTPUT',
      '-p',
      'tcp',
      '-m',
      'conntrack',
      '--ctstate',
      'NEW,ESTABLISHED',
      '-j',
      'ACCEPT',
    ]);
    net.exec(net.nsA, [
      'iptables',
      '-w',
      '10',
      '-A',
      'OUTPUT',
      '-p',
      'udp',
      '-m',
      'conntrack',
      '--ctstate',
      'NEW',
      '-j',
      'ACCEPT',
    ]);
    const server = spawn(
      'ip',
      [
        'netns',
        'exec',
        net.nsB,
        process.execPath,
        '-e',
        `require('net').createServer((s)=>s.on('data',(d)=>s.end(d))).listen(9090,${JSON.stringify(net.b)});setTimeout(()=>process.exit(0),20000)`,
      ],
      { stdio: 'ignore' },
    );
    try {
      await new Promise((r) => setTimeout(r, 500));
      const client = `const s=require('net').connect({host:${JSON.stringify(net.b)},port:8080},()=>s.write('ping'));s.on('data',()=>s.end());s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(0),1500)`;
      for (const json of [true, false]) {
        const p = new PwruProcess([
          '--backend=tracepoint',
          '--output-ct',
          '--output-tcp-flags',
          ...(json ? ['--output-json'] : []),
          `host ${net.b} and tcp`,
        ]);
        try {
          await p.ready();
          net.exec(net.nsA, [process.execPath, '-e', client]);
          await new Promise((r) => setTimeout(r, 500));
          expect(await p.stop()).toBe(0);
        } finally {
          p.child.kill('SIGKILL');
        }
        if (json)
          events = p.stdout
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as CtEvent);
        else text = p.stdout;
      }
      // Nothing listens on B's UDP port 7: B answers with an ICMP port unreachable.
      const p = new PwruProcess(['--backend=tracepoint', '--output-ct', '--output-json', `host ${net.a} and icmp`]);
      try {
        await p.ready();
        const udp = `const s=require('dgram').createSocket('udp4');s.send('ping',7,${JSON.stringify(net.b)},()=>setTimeout(()=>s.close(),300));`;
        net.exec(net.nsA, [process.execPath, '-e', udp]);
        await new Promise((r) => setTimeout(r, 500));
        expect(await p.stop()).toBe(0);
      } finally {
        p.child.kill('SIGKILL');
      }
      icmp = p.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as CtEvent);
    } finally {
      server.kill('SIGKILL');
    }
  }, 120_000);
  afterAll(() => net?.destroy());

  it('shows both tuples of a DNAT: the address the client used and the one it was rewritten to', () => {
    const dnat = events.find((e) => e.ct?.status.includes('DST_NAT'));
    expect(dnat, JSON.stringify(events.slice(0, 20))).toBeDefined();
    const ct = dnat!.ct!;
    expect(ct.orig).toMatchObject({ saddr: net.a, daddr: net.b, dport: 8080, proto: 6 });
    expect(ct.reply).toMatchObject({ saddr: net.b, sport: 9090, daddr: net.a, dport: ct.orig!.sport, proto: 6 });
    expect(ct.status).toEqual(expect.arrayContaining(['CONFIRMED', 'DST_NAT']));
    expect(ct.addr).toMatch(/^0xffff[0-9a-f]{12}$/);
  });

  it('groups the client side of one connection by entry address: NEW for the SYN, ESTABLISHED after the handshake', () => {
    const client = events.filter(
      (e) => e.ct && e.ct.orig?.dport === 8080 && e.ct.orig.saddr === net.a && !e.ct.status.includes('DST_NAT'),
    );
    expect(client.length).toBeGreaterThan(0);
    expect(new Set(client.map((e) => e.ct!.addr)).size).toBe(1);
    const syn = client.find((e) => e.tuple?.flags === 'SYN');
    expect(syn?.ct).toMatchObject({ state: 'NEW', reply: { saddr: net.b, sport: 8080 } });
    const after = client.filter((e) => e.ct!.state === 'ESTABLISHED');
    expect(after.length).toBeGreaterThan(0);
    expect(after.at(-1)!.ct!.status).toEqual(expect.arrayContaining(['SEEN_REPLY', 'CONFIRMED']));
    expect(after.at(-1)!.ct).toHaveProperty('mark', 0);
  });

  it('appends the state readably after FUNC in text output', () => {
    const line = text.split('\n').find((l) => / ct=0x[0-9a-f]+:ESTABLISHED_REPLY \[[A-Z_|]*DST_NAT/.test(l));
    expect(line, text).toBeDefined();
    expect(line).toMatch(
      new RegExp(
        `orig=${net.a.replace(/\./g, '\\.')}:\\d+->${net.b.replace(/\./g, '\\.')}:8080/tcp reply=${net.b.replace(/\./g, '\\.')}:9090->`,
      ),
    );
  });

  it("relates an ICMP error to the UDP entry it answers: RELATED state, the datagram's tuples", () => {
    // The ICMP error reaches A's conntrack, which finds the UDP entry from the datagram quoted in it.
    const related = icmp.filter((e) => e.ct && e.netns === icmp.find((x) => x.ct)?.netns);
    const rel = related.find((e) => /^RELATED/.test(e.ct!.state));
    expect(rel, JSON.stringify(icmp.slice(0, 20))).toBeDefined();
    expect(rel!.ct!.orig).toMatchObject({ saddr: net.a, daddr: net.b, dport: 7, proto: 17 });
    expect(rel!.ct!.reply).toMatchObject({ saddr: net.b, sport: 7, daddr: net.a, proto: 17 });
  });
});
