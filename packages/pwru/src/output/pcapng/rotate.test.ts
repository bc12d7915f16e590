import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CURL_DROP, DEFAULT_OUTPUT, fakeContext } from '../fixtures.js';
import { PcapngEventWriter } from './events.js';
import { LINKTYPE } from './format.js';
import { ethernetFrame, ipv4Packet } from './packets.js';
import { RotatingPcapngSink } from './rotate.js';
import { tsharkFields } from './tshark.js';

describe('--output-pcapng with the --output-file rotation flags', () => {
  it('rotates between blocks, and every file, backups included, reads alone in tshark', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pwru-pcapng-rotate-'));
    const path = join(dir, 'trace.pcapng');
    let clock = Date.parse('2026-01-02T03:04:05.000Z');
    const sink = new RotatingPcapngSink(path, { maxBytes: 8192, now: () => new Date((clock += 1000)) });
    const w = new PcapngEventWriter(sink, fakeContext(), { snaplen: 256, output: DEFAULT_OUTPUT });
    sink.attach(w.writer);
    const n = 60;
    for (let i = 0; i < n; i++) {
      const data = ipv4Packet({
        saddr: '10.0.0.1',
        daddr: '10.0.0.2',
        proto: 17,
        sport: 1000 + i,
        dport: 53,
        payload: 20,
      });
      // Two interfaces, the second met only after the first rotation.
      const ev = i < 20 ? CURL_DROP : { ...CURL_DROP, meta: { ...CURL_DROP.meta!, ifindex: 7 } };
      w.write(
        { ...ev, ts: CURL_DROP.ts + i },
        { linkType: i < 20 ? LINKTYPE.ethernet : LINKTYPE.raw, data: i < 20 ? ethernetFrame(data) : data, origLen: 0 },
      );
      w.writer.flush(); // one batch per packet: rotations happen between any two of them
    }
    await sink.close();
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThan(3);
    expect(files).toContain('trace.pcapng');
    expect(files.filter((f) => /^trace-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.pcapng$/.test(f))).toHaveLength(
      files.length - 1,
    );
    const ports: number[] = [];
    for (const f of files) {
      const r = tsharkFields(join(dir, f), ['udp.srcport', 'frame.interface_name', 'frame.encap_type']);
      expect(r.warnings, f).toBe('');
      expect(r.status, f).toBe(0);
      for (const [port, name, encap] of r.rows) {
        ports.push(Number(port));
        expect([name, encap], f).toEqual(Number(port) < 1020 ? ['eth0', '1'] : ['ifindex 7', '7']);
      }
    }
    expect(ports.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => 1000 + i));
  });
});
