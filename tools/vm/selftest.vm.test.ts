import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, appendFileSync } from 'node:fs';
import { release } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * The test VM's own promises, checked from inside it: everything a `*.vm.test.ts` relies on.
 * Runs only in the VM (tools/vm/test.sh); elsewhere it skips with the reason.
 */

const inVm = process.env.BPF_TS_VM !== undefined;
if (!inVm) console.warn('skipping the VM self-test: BPF_TS_VM is unset (run it with tools/vm/test.sh)');

const tracing = '/sys/kernel/tracing';
const kprobeEvents = `${tracing}/kprobe_events`;

/** Run a command, throwing with its stderr when it fails; returns stdout. */
function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Why this host's iptables (the nf_tables flavour) cannot add a rule on the VM's kernel, or
 * undefined when it can: iptables-nft 1.8.9 fails on 5.10's nf_tables (RULE_APPEND, ENOENT),
 * where the suites use iptables-legacy instead. Tried once in a scratch namespace.
 */
function iptablesNftRefused(): string | undefined {
  const ns = `bpfts-selftest-nft-${process.pid}`;
  try {
    run('ip', ['netns', 'add', ns]);
    run('ip', ['netns', 'exec', ns, 'iptables', '-A', 'OUTPUT', '-p', 'udp', '--dport', '9', '-j', 'ACCEPT']);
    return undefined;
  } catch (e) {
    const why = ((e as { stderr?: string }).stderr ?? String(e)).trim().split('\n')[0];
    return `this host's iptables (nf_tables) cannot add rules on this kernel: ${why}`;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}
const nftRefused = inVm ? iptablesNftRefused() : undefined;

describe.skipIf(!inVm)('the test VM', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        cleanup();
      } catch {
        // Best effort: the VM is thrown away anyway.
      }
    }
  });

  it('announces its kernel in BPF_TS_VM', () => {
    expect(release().startsWith(`${process.env.BPF_TS_VM}.`)).toBe(true);
  });

  it('creates and removes a kprobe and a kretprobe through tracefs', () => {
    const name = `bpfts_selftest_${process.pid}`;
    cleanups.push(() => appendFileSync(kprobeEvents, `-:${name}\n-:${name}_ret\n`));
    appendFileSync(kprobeEvents, `p:${name} __netif_receive_skb\n`);
    appendFileSync(kprobeEvents, `r:${name}_ret __netif_receive_skb\n`);

    const events = readFileSync(kprobeEvents, 'utf8');
    expect(events).toContain(`p:kprobes/${name} __netif_receive_skb`);
    expect(events).toMatch(new RegExp(`^r\\d*:kprobes/${name}_ret __netif_receive_skb$`, 'm'));
    expect(existsSync(`${tracing}/events/kprobes/${name}/id`)).toBe(true);
    expect(existsSync(`${tracing}/events/kprobes/${name}_ret/id`)).toBe(true);

    appendFileSync(kprobeEvents, `-:${name}\n`);
    appendFileSync(kprobeEvents, `-:${name}_ret\n`);
    expect(readFileSync(kprobeEvents, 'utf8')).not.toContain(name);
  });

  it('exposes the kprobe PMU that perf_event_open attaches BPF programs through', () => {
    const type = Number(readFileSync('/sys/bus/event_source/devices/kprobe/type', 'utf8'));
    expect(Number.isInteger(type) && type > 0).toBe(true);
    expect(readFileSync('/sys/bus/event_source/devices/kprobe/format/retprobe', 'utf8').trim()).toBe('config:0');
  });

  it.skipIf(nftRefused !== undefined)(
    `drops packets with iptables inside a network namespace it creates${nftRefused ? ` — skipped: ${nftRefused}` : ''}`,
    () => {
      const ns = `bpfts-selftest-${process.pid}`;
      const peer = `${ns}-peer`;
      cleanups.push(() => run('ip', ['netns', 'del', ns]));
      cleanups.push(() => run('ip', ['netns', 'del', peer]));
      run('ip', ['netns', 'add', ns]);
      run('ip', ['netns', 'add', peer]);
      run('ip', ['-n', ns, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', peer]);
      run('ip', ['-n', ns, 'addr', 'add', '10.231.0.1/24', 'dev', 'veth0']);
      run('ip', ['-n', peer, 'addr', 'add', '10.231.0.2/24', 'dev', 'veth1']);
      run('ip', ['-n', ns, 'link', 'set', 'veth0', 'up']);
      run('ip', ['-n', peer, 'link', 'set', 'veth1', 'up']);
      run('ip', ['netns', 'exec', ns, 'iptables', '-A', 'OUTPUT', '-d', '10.231.0.2', '-p', 'udp', '-j', 'DROP']);

      // bash's /dev/udp sends one datagram; the DROP rule makes the send fail with EPERM.
      const send = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', 'echo ping > /dev/udp/10.231.0.2/9'], {
        encoding: 'utf8',
      });
      expect(send.status).not.toBe(0);
      expect(send.stderr).toContain('Operation not permitted');

      const counters = run('ip', ['netns', 'exec', ns, 'iptables', '-L', 'OUTPUT', '-v', '-x', '-n']);
      const rule = counters.split('\n').find((line) => line.includes('10.231.0.2'));
      expect(rule?.trim().split(/\s+/)[0]).toBe('1');
    },
  );

  it('loads netfilter modules on demand for iptables-legacy as well', () => {
    const ns = `bpfts-selftest-legacy-${process.pid}`;
    cleanups.push(() => run('ip', ['netns', 'del', ns]));
    run('ip', ['netns', 'add', ns]);
    // iptables-legacy runs the modprobe named in /proc/sys/kernel/modprobe itself.
    run('ip', ['netns', 'exec', ns, 'iptables-legacy', '-A', 'OUTPUT', '-d', '10.231.1.2', '-j', 'DROP']);
    expect(run('ip', ['netns', 'exec', ns, 'iptables-legacy', '-S', 'OUTPUT'])).toContain(
      '-A OUTPUT -d 10.231.1.2/32 -j DROP',
    );
    expect(readFileSync('/proc/modules', 'utf8')).toMatch(/^iptable_filter /m);
  });

  it('runs the host node binary in child processes', () => {
    const out = run(process.execPath, ['-p', 'process.version + " " + process.env.BPF_TS_VM']);
    expect(out.trim()).toBe(`${process.version} ${process.env.BPF_TS_VM}`);
  });
});
