import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendRuns, funcIpMissing, kernelBtf, titled, vmSkipReason } from './kernel.js';
import { NetnsPair, PwruProcess } from './netns.js';

// Inside the test VM (tools/vm/test.sh), with every backend the kernel has: kprobes and
// kretprobes, kprobe-multi entry and return probes, and fentry/fexit on BPF map functions. test/bpfmap-target.mjs attaches a tc program to the veth in namespace b that, per
// packet, updates then looks up key 0x11223344 in a per-CPU hash `pwru_test_map` (value
// 0x05060708); real TCP SYNs from namespace a pass through it. The 6.1 verifier turns the helper
// calls into direct calls of the map's functions, which --filter-non-skb-funcs names. The
// /proc/kcore scan and JSON run with the kernel's default kprobe-family backend.
// Where bpf_get_func_ip is missing (Linux < 5.15) pwru refuses --output-bpfmap in one line.
const vm = vmSkipReason();
const skip = vm ?? funcIpMissing();
if (skip) console.log(`skipped: --output-bpfmap end-to-end tests: ${skip}`);
const runs = backendRuns({ fentry: false });
const main = runs.find((r) => r.backend !== 'fentry' && r.skip === undefined) ?? runs[0]!;

const UPDATE = 'htab_percpu_map_update_elem';
const LOOKUP = 'htab_percpu_map_lookup_elem';
// Kernels whose verifier inlines per-CPU hash lookups (htab_percpu_map_gen_lookup, 6.11+) never
// call the lookup function: there only the update shows.
const lookupInlined = !vm && kernelBtf().findType('htab_percpu_map_gen_lookup', 'func') !== undefined;
const TRACED = lookupInlined ? [UPDATE] : [UPDATE, LOOKUP];
const LAST = TRACED.at(-1)!;
const INLINE_NOTE = lookupInlined ? ' (lookups inlined by this kernel: the update only)' : '';
const TC = /bpf_prog_[0-9a-f]{16}_tc_map_main\[bpf\]\(tc\)/;
const KEY_DUMP = '00000000  44 33 22 11                                       |D3".|';
const VALUE_DUMP = '00000000  08 07 06 05 00 00 00 00                           |........|';

describe.skipIf(vm !== undefined || skip === undefined)(
  'pwru --output-bpfmap on a kernel without bpf_get_func_ip',
  () => {
    it('refuses with one line naming the helper and the kernel version it needs', async () => {
      const p = new PwruProcess(['--output-bpfmap', '--filter-non-skb-funcs', 'htab_percpu_map_lookup_elem', 'tcp']);
      expect(await p.exited).toBe(1);
      expect(p.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /ERROR Failed to run pwru error="--output-bpfmap needs the bpf_get_func_ip helper \(Linux 5\.15\+\)/,
        ),
      ]);
    }, 300_000);
  },
);

describe.skipIf(skip !== undefined)(
  titled('pwru --output-bpfmap (a tc program updating and looking up a map per packet)', skip),
  () => {
    let net: NetnsPair;
    let target: ChildProcess;
    let mapId = 0;

    beforeAll(async () => {
      net = new NetnsPair();
      const script = new URL('../bpfmap-target.mjs', import.meta.url).pathname;
      target = spawn('ip', ['netns', 'exec', net.nsB, process.execPath, script, net.vethB], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let err = '';
      target.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      mapId = await new Promise<number>((resolve, reject) => {
        target.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { map: number }).map));
        target.once('exit', (code) => reject(new Error(`bpfmap-target.mjs exited ${code}: ${err}`)));
      });
    }, 60_000);

    afterAll(() => {
      target?.stdin?.end();
      target?.kill('SIGTERM');
      net?.destroy();
    });

    async function traced(
      args: string[],
      until: RegExp,
      functions: string[] = ['--filter-non-skb-funcs', `${UPDATE},${LOOKUP}`],
    ): Promise<PwruProcess> {
      const p = new PwruProcess([
        '--trace-only-bpf',
        '--filter-trace-tc',
        '--output-bpfmap',
        ...functions,
        ...args,
        `dst host ${net.b} and tcp dst port 8080`,
      ]);
      try {
        await p.ready(120_000);
        for (let i = 0; i < 5 && !until.test(p.stdout); i++) {
          net.connect(net.b, 8080);
          await p.waitFor(until, 5_000);
        }
        expect(await p.stop()).toBe(0);
        return p;
      } finally {
        p.child.kill('SIGKILL');
      }
    }

    for (const run of runs) {
      it.skipIf(run.skip !== undefined)(
        titled(
          `${run.label}: the update and the lookup print the map id, name, key and value of the packet the tc program saw (the lookup value read on return)${INLINE_NOTE}`,
          run.skip,
        ),
        async () => {
          const p = await traced([...run.args], new RegExp(` ${LAST}\\n(.*\\n){5}`));
          expectBlocks(p);
          expect(p.stderr).toMatch(new RegExp(`via=${run.backend}\\n`));
        },
        300_000,
      );
    }

    it.skipIf(main.skip !== undefined)(
      titled(
        `${main.label}: without map functions named, finds the ones the JITed tc program calls in /proc/kcore${INLINE_NOTE}`,
        main.skip,
      ),
      async () => {
        const p = await traced([...main.args], new RegExp(` ${LAST}\\n(.*\\n){5}`), []);
        expectBlocks(p);
        expect(p.stderr).toMatch(new RegExp(`INFO --output-bpfmap traces bpf map functions functions=\\S*${UPDATE}`));
      },
      300_000,
    );

    function expectBlocks(p: PwruProcess): void {
      const lines = p.stdout.split('\n');
      const tc = lines.findIndex((l) => TC.test(l));
      expect(tc).toBeGreaterThan(-1);
      for (const fn of TRACED) {
        const at = lines.findIndex((l, i) => i > tc && l.endsWith(` ${fn}`));
        expect(at, fn).toBeGreaterThan(tc);
        // Reported with the skb the tc program's stack carries: the SYN.
        expect(lines[at]!.split(' ')[0]).toBe(lines[tc]!.split(' ')[0]);
        expect(lines[at]).toContain(`->${net.b}:8080(tcp)`);
        // The lookup's value is the one its return pointer points at (read by the kretprobe).
        expect(lines.slice(at + 1, at + 7), fn).toEqual([
          `map_id: ${mapId}`,
          'map_name: pwru_test_map',
          'key(4):',
          KEY_DUMP,
          'value(8):',
          VALUE_DUMP,
        ]);
      }
    }

    it.skipIf(main.skip !== undefined)(
      titled(
        `${main.label}: JSON, the bpfmap object carries id, name, sizes, key and value as hex${INLINE_NOTE}`,
        main.skip,
      ),
      async () => {
        const p = await traced([...main.args, '--output-json'], new RegExp(`"func":"${LAST}"`));
        const events = p.stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { func: string; bpfmap?: unknown });
        for (const fn of TRACED) {
          expect(events.find((e) => e.func === fn)?.bpfmap, fn).toEqual({
            id: mapId,
            name: 'pwru_test_map',
            key_size: 4,
            value_size: 8,
            key: '44332211',
            value: '0807060500000000',
          });
        }
        expect(events.filter((e) => TC.test(e.func)).every((e) => e.bpfmap === undefined)).toBe(true);
      },
      300_000,
    );
  },
);
