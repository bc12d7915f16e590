import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, MASKED_COMMANDS, maskedPath, which } from './masked-path.js';

/**
 * The promise of `npx pwru`: Node and nothing else. Every workspace is packed as it would be
 * published, the five tarballs are installed into an empty prefix (third-party dependencies
 * from the npm registry) with a PATH on which no compiler, Go or libpcap tool exists, and pwru
 * runs from there: --version, --help, and a real trace of loopback UDP as root.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const WORKSPACES = ['bpf-asm-ts', 'btf-parser', 'pcap2ebpf', 'bpf-loader-ts', 'pwru'];

interface Packed {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

let work: string;
let prefix: string;
let binDir: string;
let env: NodeJS.ProcessEnv;
let packed: Packed[];

/** Runs `npx pwru ARGS` in the prefix. */
function npxPwru(args: string[]) {
  return spawnSync('npx', ['pwru', ...args], { cwd: prefix, env, encoding: 'utf8', timeout: 60_000 });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pwru-pack-'));
  prefix = join(work, 'prefix');
  binDir = maskedPath();
  // npm_config_yes=false: should the local bin be missing, npx fails instead of fetching a
  // package called pwru from the registry.
  env = { ...cleanEnv(binDir), npm_config_yes: 'false' };
  const out = execFileSync('npm', ['pack', '--workspaces', '--json', '--pack-destination', work], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  packed = JSON.parse(out) as Packed[];
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (binDir) rmSync(binDir, { recursive: true, force: true });
});

describe('the workspaces pack into publishable tarballs', () => {
  it('packs all five packages', () => {
    expect(packed.map((p) => p.name).sort()).toEqual([...WORKSPACES].sort());
  });

  it.each(WORKSPACES)('%s has what publishing needs', (name) => {
    const p = packed.find((x) => x.name === name)!;
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8'));
    expect(manifest.description).toMatch(/\S/);
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.engines?.node).toBe('>=20');
    expect(manifest.exports['.'].import).toBe('./dist/index.js');
    expect(manifest.exports['.'].types).toBe('./dist/index.d.ts');
    const paths = p.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']),
    );
    for (const bin of Object.values<string>(manifest.bin ?? {})) expect(paths).toContain(bin.replace(/^\.\//, ''));
    // No tests, sources or benchmarks in what users download.
    expect(paths.filter((f) => !/^(dist\/|bin\/|package\.json$|README\.md$|LICENSE$)/.test(f))).toEqual([]);
    // Dependencies on sibling packages are caret ranges from the version packed beside them, so an
    // application can install one package and let npm pick compatible versions of the others.
    for (const [dep, range] of Object.entries<string>(manifest.dependencies ?? {})) {
      const sibling = packed.find((x) => x.name === dep);
      if (sibling) expect(range, `${name} -> ${dep}`).toBe(`^${sibling.version}`);
    }
  });
});

describe('npx pwru from an empty prefix, with Node alone', () => {
  beforeAll(() => {
    const r = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-audit',
        '--no-fund',
        '--include=optional',
        ...packed.map((p) => join(work, p.filename)),
      ],
      { cwd: work, env, encoding: 'utf8', timeout: 110_000 },
    );
    if (r.status !== 0) throw new Error(`npm install of the tarballs failed (${r.status ?? r.signal}):\n${r.stderr}`);
  });

  it('has no compiler, Go or libpcap tool on its PATH', () => {
    for (const c of MASKED_COMMANDS) expect(which(c, binDir), c).toBeUndefined();
    expect(which('node', binDir)).toBeDefined();
  });

  it("installs koffi's prebuilt binary package for this platform (optional dependencies kept)", () => {
    expect(existsSync(join(prefix, 'node_modules', '@koromix', `koffi-${process.platform}-${process.arch}`))).toBe(
      true,
    );
  });

  it('prints its version', () => {
    const r = npxPwru(['--version']);
    expect(r.stderr).not.toMatch(/Error|error:/);
    expect(r.status).toBe(0);
    const { version } = JSON.parse(readFileSync(join(prefix, 'node_modules', 'pwru', 'package.json'), 'utf8'));
    expect(r.stdout.trim()).toBe(`pwru v${version}`);
  });

  it('prints its usage', () => {
    const r = npxPwru(['--help']);
    expect(r.status).toBe(0);
    // Like upstream (Go's pflag), the usage goes to stderr; npm's own warnings may precede it.
    expect(r.stderr).toMatch(/^Usage: pwru \[options\] \[pcap-filter\]$/m);
    expect(r.stderr).toContain('--output-limit-lines');
  });

  const root = process.getuid?.() === 0;
  if (!root) console.log('npx pwru trace: skipped, loading BPF programs needs root');
  it.skipIf(!root)('traces loopback UDP matching a pcap filter, without ever loading libpcap', async () => {
    const port = 40_000 + (process.pid % 20_000);
    const child = spawn('npx', ['pwru', '--output-limit-lines', '3', `udp and dst port ${port} and host 127.0.0.1`], {
      cwd: prefix,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const listening = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('Listening for events')) resolve();
      });
      void exited.then(() => reject(new Error(`pwru exited before listening:\n${stderr}`)));
    });
    const sock = createSocket('udp4');
    try {
      await listening;
      const maps = pwruMaps(prefix);
      expect(maps).toMatch(/koffi/); // the prebuilt binary from the tarballs
      expect(maps).not.toMatch(/libpcap/);
      let done = false;
      void exited.then(() => (done = true));
      for (let i = 0; i < 200 && !done; i++) {
        sock.send('pwru', port, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await exited, stderr).toBe(0);
    } finally {
      sock.close();
      if (child.exitCode === null) child.kill('SIGINT');
    }
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SKB\s+CPU\s+PROCESS\s+NETNS\s+MARK\/x\s+IFACE\s+PROTO\s+MTU\s+LEN\s+TUPLE\s+FUNC$/);
    const events = lines.slice(1);
    expect(events).toHaveLength(3);
    for (const e of events)
      expect(e).toMatch(new RegExp(`^0x[0-9a-f]+ .* 127\\.0\\.0\\.1:\\d+->127\\.0\\.0\\.1:${port}\\(udp\\) \\S+$`));
    expect(stderr).toContain('Printed events, exiting program.. count=3');
  });
});

/** The memory map of the running pwru started from `prefix` (the node process running its bin). */
function pwruMaps(prefix: string): string {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((a) => a.startsWith(join(prefix, 'node_modules')) && /pwru/.test(a))) {
        return readFileSync(`/proc/${pid}/maps`, 'utf8');
      }
    } catch {
      // the process exited meanwhile
    }
  }
  throw new Error('no running pwru process from the prefix');
}
