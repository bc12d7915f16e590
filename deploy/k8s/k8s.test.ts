/**
 * The Kubernetes deployment, without a cluster: the manifests validate against the Kubernetes API
 * schema (kubernetes-models' OpenAPI validators), the Dockerfile parses and lints clean
 * (dockerfile-utils, the Docker language server's linter; no image is built: this machine has no
 * Docker daemon and no registry for the base image), and the scripts do what the recipe says.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const here = new URL('.', import.meta.url).pathname;
const repo = join(here, '../..');
const docs = parseAllDocuments(readFileSync(join(here, 'pwru-daemonset.yaml'), 'utf8')).map(
  (d) => d.toJS() as Record<string, any>,
);

function model(doc: Record<string, any>): { validate(): void } {
  if (doc.kind === 'Namespace') return new Namespace(doc as never);
  if (doc.kind === 'DaemonSet') return new DaemonSet(doc as never);
  throw new Error(`unexpected kind ${doc.kind}`);
}

describe('pwru-daemonset.yaml', () => {
  it('holds a Namespace and a DaemonSet that validate against the Kubernetes API schema', () => {
    expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'DaemonSet']);
    for (const d of docs) expect(() => model(d).validate()).not.toThrow();
  });

  it('would be refused with a wrong field (the validation is real)', () => {
    const bad = structuredClone(docs[1]!);
    bad.spec.template.spec.hostNetwork = 'yes';
    expect(() => model(bad).validate()).toThrow(/hostNetwork/);
    const noImage = structuredClone(docs[1]!);
    delete noImage.spec.template.spec.containers[0].image;
    noImage.spec.template.spec.containers[0].name = 7;
    expect(() => model(noImage).validate()).toThrow();
  });

  it('runs on the host network and pid namespace with the BPF capabilities and the host mounts pwru needs', () => {
    const pod = docs[1]!.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.hostPID).toBe(true);
    expect(pod.nodeSelector).toMatchObject({ pwru: 'trace' });
    const c = pod.containers[0];
    expect(c.securityContext.privileged).toBeUndefined();
    expect(c.securityContext.capabilities.add).toEqual(expect.arrayContaining(['BPF', 'PERFMON', 'SYS_ADMIN']));
    expect(c.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    const mounts = Object.fromEntries(
      c.volumeMounts.map((m: { name: string; mountPath: string }) => [m.mountPath, m.name]),
    );
    const hostPaths = Object.fromEntries(
      pod.volumes.filter((v: any) => v.hostPath).map((v: any) => [v.name, v.hostPath.path]),
    );
    for (const p of [
      '/sys/kernel/btf',
      '/sys/fs/bpf',
      '/sys/kernel/tracing',
      '/run/netns',
      '/run/containerd/io.containerd.runtime.v2.task',
    ]) {
      expect(hostPaths[mounts[p]]).toBe(p);
    }
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(here, 'Dockerfile'), 'utf8');

  it("lints clean with the Docker language server's validator", () => {
    expect(lintDockerfile(text).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('builds on an official Node image and installs the packed tarballs, compiling nothing', () => {
    const df = DockerfileParser.parse(text);
    const ins = df.getInstructions().map((i) => [i.getKeyword(), i.getArgumentsContent() ?? ''] as const);
    expect(df.getFROMs().map((f) => f.getImageName())).toEqual(['node']);
    expect(df.getFROMs()[0]!.getImageTag()).toMatch(/^20-/);
    expect(ins).toContainEqual(['COPY', 'dist/*.tgz /tmp/pwru/']);
    const run = ins
      .filter(([k]) => k === 'RUN')
      .map(([, a]) => a)
      .join('\n');
    expect(run).toMatch(/npm install --prefix \/opt\/pwru .*\/tmp\/pwru\/\*\.tgz/);
    expect(run).not.toMatch(/apt-get|gcc|clang|make|node-gyp|golang/);
    expect(df.getENTRYPOINTs()[0]!.getArgumentsContent()).toBe('["/usr/local/bin/pwru-node"]');
    // Everything it copies is in the build context (dist/ is made by npm pack).
    for (const [k, a] of ins)
      if (k === 'COPY' && !a.startsWith('dist/'))
        expect(() => readFileSync(join(here, a.split(' ')[0]!))).not.toThrow();
  });
});

/** A directory with a stub `pwru` (the real one for `timeline`, else it prints its arguments) and `kubectl`. */
function stubs(): string {
  const bin = mkdtempSync(join(tmpdir(), 'pwru-k8s-bin-'));
  const pwru = join(repo, 'packages/pwru/bin/pwru.js');
  writeFileSync(
    join(bin, 'pwru'),
    `#!/bin/sh\nif [ "$1" = timeline ]; then exec node ${pwru} "$@"; fi\necho "pwru $*"\n`,
  );
  writeFileSync(
    join(bin, 'kubectl'),
    `#!/bin/sh
case "$1" in
  get) printf 'pwru-abc node-1\\npwru-def node-2\\n' ;;
  logs) eval "pod=\\$$#"; printf '{"pwru_clock":{"node":"%s","realtime_ns":"1","monotonic_ns":1}}\\n' "$pod" ;;
esac
`,
  );
  chmodSync(join(bin, 'pwru'), 0o755);
  chmodSync(join(bin, 'kubectl'), 0o755);
  return bin;
}

describe('scripts', () => {
  it('pwru-node prints the clock reference and the pods, then runs pwru with JSON events and the given arguments', () => {
    const bin = stubs();
    const out = execFileSync('sh', [join(here, 'pwru-node.sh'), '--output-tuple', 'tcp port 80'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NODE_NAME: 'node-7', PWRU_HOST_ROOT: bin },
      encoding: 'utf8',
    });
    const lines = out.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ pwru_clock: { node: 'node-7' } });
    expect(JSON.parse(lines[1]!)).toEqual({ pwru_pods: { node: 'node-7', pods: {} } });
    expect(lines[2]).toBe('pwru --output-json --timestamp current --output-tuple tcp port 80');
  });

  it('pwru-node names a pod that starts after pwru, and stops pwru on the stop signal without losing its last lines', async () => {
    const bin = stubs();
    // The node's root: a pod's network namespace exists, its sandbox bundle comes later.
    const root = mkdtempSync(join(tmpdir(), 'pwru-k8s-root-'));
    mkdirSync(join(root, 'var/run/netns'), { recursive: true });
    writeFileSync(join(root, 'var/run/netns/cni-9'), '');
    const ino = statSync(join(root, 'var/run/netns/cni-9')).ino;
    const ev = (func: string): string =>
      JSON.stringify({ skb: '0x1', cpu: 0, process: 'x', func, time: 1, netns: ino, iface: 'eth0:2' });
    // pwru: one event, then another when told to stop (as pwru prints what its ring still holds).
    writeFileSync(
      join(bin, 'pwru'),
      `#!/bin/sh
if [ "$1" = timeline ]; then exec node ${join(repo, 'packages/pwru/bin/pwru.js')} "$@"; fi
` +
        `trap 'echo ${JSON.stringify(ev('last'))}; exit 0' TERM
echo '${ev('first')}'
while :; do sleep 0.05; done
`,
    );
    const sh = spawn('sh', [join(here, 'pwru-node.sh'), 'tcp'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NODE_NAME: 'node-7', PWRU_HOST_ROOT: root },
    });
    let out = '';
    sh.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => sh.on('exit', (code) => r(code)));
    for (let i = 0; i < 100 && !out.includes('"first"'); i++) await new Promise((r) => setTimeout(r, 50));
    const bundle = join(root, 'run/containerd/io.containerd.runtime.v2.task/k8s.io/pod9');
    mkdirSync(bundle, { recursive: true });
    writeFileSync(
      join(bundle, 'config.json'),
      JSON.stringify({
        annotations: { 'io.kubernetes.cri.sandbox-name': 'late-0', 'io.kubernetes.cri.sandbox-namespace': 'shop' },
        linux: { namespaces: [{ type: 'network', path: '/var/run/netns/cni-9' }] },
      }),
    );
    await new Promise((r) => setTimeout(r, 1100)); // the resolver's refresh interval
    sh.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines.map((l) => Object.keys(JSON.parse(l))[0])).toEqual([
      'pwru_clock',
      'pwru_pods',
      'skb',
      'pwru_pods',
      'skb',
    ]);
    expect(JSON.parse(lines[3]!)).toEqual({ pwru_pods: { node: 'node-7', pods: { [ino]: 'shop/late-0' } } });
    expect(JSON.parse(lines[4]!).func).toBe('last');
  });

  it('collect.sh writes one file per node, named after it', () => {
    const bin = stubs();
    const dir = mkdtempSync(join(tmpdir(), 'pwru-k8s-out-'));
    const r = spawnSync('bash', [join(here, 'collect.sh'), '--once', dir], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'node-1.json'), 'utf8')).toContain('"node":"pwru-abc"');
    expect(readFileSync(join(dir, 'node-2.json'), 'utf8')).toContain('"node":"pwru-def"');
    expect(r.stderr).toContain('collecting pwru-def (node-2)');
  });
});
