import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { timelineMain } from './cli.js';
import { followPods, PodResolver } from './pod-follow.js';
import { resolvePods } from './pods.js';
import { readStreams } from './stream.js';

/** A fake node root whose containerd state directory gains pods while a test runs. */
function fakeRuntime() {
  const root = mkdtempSync(join(tmpdir(), 'pwru-pod-follow-'));
  const put = (path: string, text: string): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  /** Starts a pod's sandbox: its network namespace, then its bundle; returns the namespace's inode. */
  const addPod = (id: string, ns: string, name: string, bundle = true): number => {
    put(`var/run/netns/cni-${id}`, '');
    if (bundle) writeBundle(id, ns, name);
    return statSync(join(root, `var/run/netns/cni-${id}`)).ino;
  };
  const writeBundle = (id: string, ns: string, name: string): void =>
    put(
      `run/containerd/io.containerd.runtime.v2.task/k8s.io/${id}/config.json`,
      JSON.stringify({
        annotations: { 'io.kubernetes.cri.sandbox-name': name, 'io.kubernetes.cri.sandbox-namespace': ns },
        linux: { namespaces: [{ type: 'network', path: `/var/run/netns/cni-${id}` }] },
      }),
    );
  return { root, addPod, writeBundle };
}

const event = (netns: number, skb = '0x1', t = 5): string =>
  JSON.stringify({
    skb,
    cpu: 0,
    process: 'x',
    func: 'veth_xmit',
    time: t,
    netns,
    iface: 'eth0:3',
    tuple: { saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 1, dport: 2, proto: 17 },
  });

describe('PodResolver', () => {
  it('re-reads the runtime files for an unknown namespace, at most once per refresh interval', () => {
    const rt = fakeRuntime();
    const web = rt.addPod('1', 'shop', 'web-0');
    let now = 0;
    let reads = 0;
    const r = new PodResolver(
      () => {
        reads++;
        return resolvePods(rt.root);
      },
      { refreshMs: 1000, now: () => now },
    );
    expect(r.refresh()).toEqual(new Map([[web, 'shop/web-0']]));
    expect(r.lookup(web).size).toBe(0);
    expect(reads).toBe(1);
    // A pod starts after pwru: its namespace exists before the runtime writes its bundle.
    const api = rt.addPod('2', 'shop', 'api-0', false);
    now = 2000;
    expect(r.lookup(api).size).toBe(0);
    expect(reads).toBe(2);
    rt.writeBundle('2', 'shop', 'api-0');
    now = 2500; // too soon after the last read
    expect(r.lookup(api).size).toBe(0);
    expect(reads).toBe(2);
    now = 3000;
    expect(r.lookup(api)).toEqual(new Map([[api, 'shop/api-0']]));
    expect(r.pod(api)).toBe('shop/api-0');
    expect(reads).toBe(3);
  });

  it("gives up on a namespace no pod owns (the node's own) after a few reads", () => {
    const rt = fakeRuntime();
    let now = 0;
    let reads = 0;
    const r = new PodResolver(
      () => {
        reads++;
        return resolvePods(rt.root);
      },
      { refreshMs: 1000, attempts: 3, now: () => now },
    );
    r.refresh();
    for (let i = 1; i <= 10; i++) {
      now = i * 1000;
      r.lookup(4026531840);
    }
    expect(reads).toBe(1 + 3);
  });
});

describe('pwru timeline pods --follow', () => {
  it('names a pod that starts after pwru: a pwru_pods line comes before its first event', async () => {
    const rt = fakeRuntime();
    const web = rt.addPod('1', 'shop', 'web-0');
    let later = 0;
    async function* pwruStream(): AsyncGenerator<string> {
      yield event(web, '0x1', 5);
      later = rt.addPod('2', 'shop', 'api-0');
      yield event(later, '0x2', 6);
      yield event(web, '0x3', 7);
    }
    let out = '';
    await followPods(pwruStream(), new PodResolver(() => resolvePods(rt.root), { refreshMs: 0 }), 'node-a', (s) => {
      out += s;
    });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[0]!)).toEqual({ pwru_pods: { node: 'node-a', pods: { [web]: 'shop/web-0' } } });
    expect(JSON.parse(lines[2]!)).toEqual({ pwru_pods: { node: 'node-a', pods: { [later]: 'shop/api-0' } } });
    expect(lines[3]).toBe(event(later, '0x2', 6));
    const [s] = readStreams([{ node: 'a', text: out }]);
    expect(s!.events.map((e) => e.pod)).toEqual(['shop/web-0', 'shop/api-0', 'shop/web-0']);
  });

  it('copies standard input through the command line, and refuses a bad interval', async () => {
    const rt = fakeRuntime();
    const web = rt.addPod('1', 'shop', 'web-0');
    let out = '';
    let err = '';
    const io = {
      out: (s: string) => void (out += s),
      err: (s: string) => void (err += s),
      stopped: () => new Promise<void>(() => {}),
      input: async function* () {
        yield event(web);
      },
    };
    expect(await timelineMain(['pods', '--root', rt.root, '--follow', '--node', 'n1'], io)).toBe(0);
    expect(out).toBe(`{"pwru_pods":{"node":"n1","pods":{"${web}":"shop/web-0"}}}\n${event(web)}\n`);
    expect(await timelineMain(['pods', '--follow', '--refresh-ms', 'soon'], io)).toBe(2);
    expect(err).toContain('--refresh-ms takes a whole number of milliseconds, not "soon"');
  });
});
