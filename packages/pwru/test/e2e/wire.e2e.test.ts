import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveTshark, tsharkFields } from '../../src/output/pcapng/tshark.js';
import { dataHash } from '../../src/wire/section.js';
import { e2eSkipReason, NetnsPair, PwruProcess } from './netns.js';

// The wire ids of `--output-json` (ip_id, ip_len, seq, ack, data_hash) on this machine's kernel
// (tracepoint backend), against tcpdump's capture of the same packets on the receiving veth: tshark
// reads the header fields, and the payload hash is recomputed from the captured bytes.
const skip = e2eSkipReason() ?? (haveTshark() ? undefined : 'needs tshark and tcpdump (tools/deps/apt-packages)');
if (skip) console.log(`skipped: wire ids end-to-end tests ${skip}`);

interface Tuple {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  proto: number;
  ip_id?: number;
  ip_len?: number;
  seq?: number;
  ack?: number;
  data_hash?: string;
}

/** The Ethernet frames of a classic pcap file (tcpdump -w). */
function pcapFrames(file: string): Uint8Array[] {
  const b = readFileSync(file);
  const frames: Uint8Array[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const cap = b.readUInt32LE(off + 8);
    frames.push(b.subarray(off + 16, off + 16 + cap));
    off += 16 + cap;
  }
  return frames;
}

/** `data_hash` by its definition, from a captured IPv4 frame; undefined for an empty payload. */
function frameHash(frame: Uint8Array): string | undefined {
  const ip = frame.subarray(14);
  const ihl = (ip[0]! & 0xf) * 4;
  const totLen = (ip[2]! << 8) | ip[3]!;
  const proto = ip[9]!;
  const l4 = ip.subarray(ihl);
  const hdr = proto === 6 ? (l4[12]! >> 4) * 4 : 8;
  const n = Math.min(16, totLen - ihl - hdr);
  return n > 0 ? dataHash(l4.subarray(hdr, hdr + n)) : undefined;
}

describe.skipIf(skip !== undefined)('wire ids (tracepoint backend, tcpdump and tshark as the oracle)', () => {
  let net: NetnsPair;
  let dir: string;
  beforeAll(() => {
    net = new NetnsPair();
    dir = mkdtempSync(join(tmpdir(), 'pwru-wire-e2e-'));
  });
  afterAll(() => {
    net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the IP ID, IP length, TCP seq/ack and payload hash tcpdump sees for the same packets', async () => {
    const pcap = join(dir, 'b.pcap');
    const ipns = ['netns', 'exec', net.nsB];
    const dump = spawn('ip', [...ipns, 'tcpdump', '-n', '-U', '--immediate-mode', '-i', net.vethB, '-w', pcap, 'ip'], {
      stdio: 'pipe',
    });
    let dumpErr = '';
    dump.stderr.on('data', (d: Buffer) => (dumpErr += d.toString()));
    // A TCP and a UDP server in b, so every packet is answered normally (no ICMP errors).
    const serverJs = `const net=require('net');net.createServer(s=>{s.on('data',d=>s.write('ok'+d.length));s.on('end',()=>s.end())}).listen(8080);require('dgram').createSocket('udp4').bind(9999);setTimeout(()=>process.exit(0),20000);`;
    const server = spawn('ip', [...ipns, process.execPath, '-e', serverJs], { stdio: 'ignore' });
    const p = new PwruProcess([
      '--backend=tracepoint',
      '--output-json',
      '--output-tcp-flags',
      `host ${net.b} and (tcp port 8080 or udp port 9999 or icmp)`,
    ]);
    try {
      for (let i = 0; i < 100 && !/listening on/.test(dumpErr); i++) await new Promise((r) => setTimeout(r, 50));
      await p.ready();
      // Three writes on one connection: several segments with the same tuple and flags (PSH|ACK).
      const clientJs = `const s=require('net').connect({host:${JSON.stringify(net.b)},port:8080},()=>{let n=0;const w=()=>{s.write('request number '+n+' '.repeat(20+n));if(++n<3)setTimeout(w,30);else setTimeout(()=>s.end(),50)};w()});s.on('data',()=>{});s.on('close',()=>process.exit(0));`;
      net.exec(net.nsA, [process.execPath, '-e', clientJs]);
      const udp = `const s=require('dgram').createSocket('udp4');s.send(Buffer.from('a datagram of thirty-two bytes!!'),9999,${JSON.stringify(net.b)},()=>s.close());`;
      net.exec(net.nsA, [process.execPath, '-e', udp]);
      net.exec(net.nsA, ['busybox', 'ping', '-c1', '-W1', net.b]);
      await p.waitFor(/"proto":1\b/, 8000);
      await new Promise((r) => setTimeout(r, 500));
      expect(await p.stop()).toBe(0);
    } finally {
      p.child.kill('SIGKILL');
      server.kill('SIGKILL');
      dump.kill('SIGINT');
      await new Promise((r) => dump.on('exit', r));
    }

    const r = tsharkFields(pcap, [
      'ip.src',
      'ip.dst',
      'ip.proto',
      'ip.id',
      'ip.len',
      'tcp.srcport',
      'tcp.dstport',
      'udp.srcport',
      'udp.dstport',
      'tcp.seq_raw',
      'tcp.ack_raw',
    ]);
    expect(r.status).toBe(0);
    const frames = pcapFrames(pcap);
    expect(frames).toHaveLength(r.rows.length);
    // What tcpdump saw, by tuple, IP ID and IP length.
    const seen = new Map<string, { seq?: number; ack?: number; hash?: string; matched: boolean }>();
    r.rows.forEach((row, i) => {
      const [src, dst, proto, id, len, tsp, tdp, usp, udp, seq, ack] = row.map((x) => x.split(',')[0]!);
      const sport = proto === '6' ? tsp : proto === '17' ? usp : '0';
      const dport = proto === '6' ? tdp : proto === '17' ? udp : '0';
      const key = `${proto} ${src}:${sport}>${dst}:${dport} id=${Number(id)} len=${len}`;
      seen.set(key, {
        ...(proto === '6' ? { seq: Number(seq), ack: Number(ack) } : {}),
        ...(frameHash(frames[i]!) !== undefined ? { hash: frameHash(frames[i]!) } : {}),
        matched: false,
      });
    });
    expect(seen.size).toBeGreaterThan(10);

    const events = p.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { func: string; tuple?: Tuple });
    let withHash = 0;
    let matched = 0;
    for (const ev of events) {
      const t = ev.tuple;
      // A socket's skb before its transport header is written has no ports yet.
      if (!t || ((t.proto === 6 || t.proto === 17) && t.sport === 0)) continue;
      const where = JSON.stringify(ev);
      const key = `${t.proto} ${t.saddr}:${t.sport}>${t.daddr}:${t.dport} id=${t.ip_id} len=${t.ip_len}`;
      const pkt = seen.get(key);
      expect(pkt, `${where}: no packet ${key} in tcpdump's capture: ${[...seen.keys()].join(' / ')}`).toBeDefined();
      pkt!.matched = true;
      matched++;
      if (t.proto === 6) expect([t.seq, t.ack], where).toEqual([pkt!.seq, pkt!.ack]);
      else expect(t, where).not.toHaveProperty('seq');
      if (t.data_hash !== undefined) {
        expect(t.data_hash, where).toBe(pkt!.hash);
        withHash++;
      }
    }
    // Every packet on the wire was seen by pwru. The UDP and ICMP payloads are hashed; a TCP
    // sender's data sits in page fragments, beyond the linear bytes pwru reads, so it has none.
    expect([...seen].filter(([, v]) => !v.matched).map(([k]) => k)).toEqual([]);
    console.log(`wire ids: ${matched} events matched ${seen.size} captured packets, ${withHash} with data_hash`);
    expect(matched).toBeGreaterThan(2 * seen.size);
    expect(withHash).toBeGreaterThan(3);
  });
});
