import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { podsLine, resolvePods } from './pods.js';
import { readStreams } from './stream.js';
import { timelineText } from './format.js';
import { joinStreams } from './join.js';

/** A fake node root with the runtime files of a containerd and a CRI-O node. */
function fakeNode() {
  const root = mkdtempSync(join(tmpdir(), 'pwru-pods-'));
  const put = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  // containerd: the sandbox's netns is a bind mount under /var/run/netns (here a plain file).
  put('var/run/netns/cni-1234', '');
  const cd = 'run/containerd/io.containerd.runtime.v2.task/k8s.io';
  put(
    `${cd}/aaa/config.json`,
    JSON.stringify({
      annotations: {
        'io.kubernetes.cri.container-type': 'sandbox',
        'io.kubernetes.cri.sandbox-name': 'web-0',
        'io.kubernetes.cri.sandbox-namespace': 'shop',
      },
      linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: '/var/run/netns/cni-1234' }] },
    }),
  );
  // A container of that pod (no sandbox-name of its own in older containerd) and a non-pod task.
  put(`${cd}/bbb/config.json`, JSON.stringify({ annotations: { 'io.kubernetes.cri.container-type': 'container' } }));
  put(`${cd}/ccc/config.json`, '{not json');
  // CRI-O: the namespace is found through the sandbox's pid.
  put('proc/4242/ns/net', '');
  put(
    'var/lib/containers/storage/overlay-containers/ddd/userdata/config.json',
    JSON.stringify({
      annotations: { 'io.kubernetes.pod.name': 'db-1', 'io.kubernetes.pod.namespace': 'shop' },
      linux: { namespaces: [{ type: 'network' }] },
    }),
  );
  put('var/lib/containers/storage/overlay-containers/ddd/userdata/pidfile', '4242\n');
  return {
    root,
    netnsWeb: statSync(join(root, 'var/run/netns/cni-1234')).ino,
    netnsDb: statSync(join(root, 'proc/4242/ns/net')).ino,
  };
}

describe('resolvePods', () => {
  it('names the pod of each sandbox network namespace from containerd and CRI-O bundles', () => {
    const n = fakeNode();
    const pods = resolvePods(n.root, join(n.root, 'proc'));
    expect(pods).toEqual(
      new Map([
        [n.netnsWeb, 'shop/web-0'],
        [n.netnsDb, 'shop/db-1'],
      ]),
    );
  });

  it('finds nothing on a machine without a container runtime', () => {
    expect(resolvePods(mkdtempSync(join(tmpdir(), 'pwru-nopods-'))).size).toBe(0);
  });

  it("labels a stream's events with their pod in the timeline", () => {
    const n = fakeNode();
    const pods = podsLine(resolvePods(n.root, join(n.root, 'proc')), 'node-a');
    const ev = JSON.stringify({
      skb: '0x1',
      cpu: 0,
      process: 'x',
      func: 'veth_xmit',
      time: 5,
      netns: n.netnsWeb,
      iface: 'eth0:3',
      tuple: { saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 1, dport: 2, proto: 17 },
    });
    const [s] = readStreams([{ node: 'a', text: `${pods}${ev}\n` }]);
    expect(s!.events[0]!.pod).toBe('shop/web-0');
    expect(timelineText(joinStreams([s!]))).toContain('veth_xmit eth0:3 pod=shop/web-0 ');
  });
});
