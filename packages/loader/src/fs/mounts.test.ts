import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PermissionError } from '../errors.js';
import { FakeBackend } from '../sys/fake-backend.js';
import { Errno } from '../sys/errno.js';
import { findBpffs, findTracefs, mountBpffs, mountTracefs, parseMounts } from './mounts.js';

const MOUNTS = [
  'sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0',
  'none /sys/fs/bpf bpf rw,nosuid,nodev,noexec,relatime,mode=700 0 0',
  'tracefs /mnt/my\\040trace tracefs rw,relatime 0 0',
  'bpf /run/other-bpf bpf rw 0 0',
].join('\n');

describe('parseMounts', () => {
  it('reads source, target and type of each line, decoding octal escapes', () => {
    const m = parseMounts(MOUNTS);
    expect(m).toHaveLength(4);
    expect(m[2]).toEqual({ source: 'tracefs', target: '/mnt/my trace', fstype: 'tracefs' });
  });
  it('prefers /sys/fs/bpf among several bpffs mounts, and finds any other one', () => {
    const m = parseMounts(MOUNTS);
    expect(findBpffs(m)).toBe('/sys/fs/bpf');
    expect(findBpffs(m.filter((e) => e.target !== '/sys/fs/bpf'))).toBe('/run/other-bpf');
    expect(findBpffs([])).toBeUndefined();
  });
});

const isRoot = process.getuid?.() === 0;
const canUnshare = isRoot && spawnSync('unshare', ['-m', 'true']).status === 0;

describe('mounting with a syscall that fails', () => {
  it('mountTracefs says how to fix EPERM when it has to mount', () => {
    const backend = new FakeBackend();
    backend.mountResult = -Errno.EPERM;
    // Only meaningful where tracefs is not mounted yet; when it is, nothing is called.
    if (findTracefs() !== undefined) {
      expect(mountTracefs({ backend })).toMatchObject({ mounted: false });
      expect(backend.mounts).toEqual([]);
      return;
    }
    expect(() => mountTracefs({ backend })).toThrow(PermissionError);
    expect(() => mountTracefs({ backend })).toThrow(
      /mount tracefs at \/sys\/kernel\/tracing: EPERM .*mount -t tracefs tracefs \/sys\/kernel\/tracing/,
    );
  });
  it('mountBpffs at a new path calls mount(2) with the bpf type and says what ENODEV means', () => {
    const backend = new FakeBackend();
    backend.mountResult = -Errno.ENODEV;
    expect(() => mountBpffs({ path: '/nonexistent/bpf', backend })).toThrow(/built without bpffs/);
    expect(backend.mounts[0]).toMatchObject({ source: 'bpf', target: '/nonexistent/bpf', fstype: 'bpf' });
  });
});

/** Runs `script` with node in a private mount namespace after unmounting every tracefs there. */
function inNamespaceWithoutTracefs(script: string): { status: number | null; out: string } {
  const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
  const unmount = `for t in $(awk '$3=="tracefs"{print $2}' /proc/self/mounts | sort -r); do umount "$t"; done`;
  const r = spawnSync(
    'unshare',
    [
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      `${unmount}; exec node --input-type=module -e "$0"`,
      `const L = await import(${JSON.stringify(dist)});\n${script}`,
    ],
    {
      encoding: 'utf8',
    },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

if (!canUnshare) console.warn('skipping the private-mount-namespace tracefs test: needs root and unshare(1)');

describe.skipIf(!canUnshare)(
  'tracefs unmounted, in a private mount namespace (the rest of the machine untouched)',
  () => {
    it('tracefsRoot says it is not mounted and how to mount it; mountTracefs mounts it; a tracepoint then attaches', () => {
      const { status, out } = inNamespaceWithoutTracefs(`
      let msg = '';
      try { L.tracefsRoot(); } catch (e) { msg = e.constructor.name + ': ' + e.message; }
      console.log('before ' + msg);
      const r = L.mountTracefs();
      console.log('mounted ' + JSON.stringify(r) + ' root=' + L.tracefsRoot());
      console.log('again ' + JSON.stringify(L.mountTracefs()));
      const prog = L.Program.load({ name: 'tp', type: L.ProgramType.TRACEPOINT, license: 'GPL',
        instructions: new Uint8Array([0xb7,0,0,0,0,0,0,0, 0x95,0,0,0,0,0,0,0]) });
      const a = L.attachTracepoint(prog, 'skb', 'kfree_skb');
      console.log('attached ' + (a !== undefined));
      a.close(); prog.close();
    `);
      expect(out).toContain(
        "before NotMountedError: tracefs is not mounted (looked at /sys/kernel/tracing and /sys/kernel/debug/tracing): as root, mount it with 'mount -t tracefs tracefs /sys/kernel/tracing' or call mountTracefs()",
      );
      expect(out).toContain('mounted {"path":"/sys/kernel/tracing","mounted":true} root=/sys/kernel/tracing');
      expect(out).toContain('again {"path":"/sys/kernel/tracing","mounted":false}');
      expect(out).toContain('attached true');
      expect(status).toBe(0);
    });
  },
);
