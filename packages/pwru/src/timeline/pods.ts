/**
 * Which Kubernetes pod owns a network namespace, read on the node from the container runtime's
 * own files: each running sandbox's OCI bundle `config.json` names the pod (CRI annotations) and
 * its network namespace (a path, or the sandbox's pid whose `/proc/PID/ns/net` it is). pwru's
 * JSON events carry the namespace's inode (`netns`), so a stream's `pwru_pods` line (printed by
 * `pwru timeline pods` beside the clock reference) lets the timeline name the pod of each event.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A pod, as `namespace/name`. */
export type PodName = string;

/** Where each runtime keeps its running containers' bundles (below the node's root). */
export const RUNTIME_STATE_DIRS = [
  // containerd's CRI plugin: one bundle per task, sandboxes included.
  'run/containerd/io.containerd.runtime.v2.task/k8s.io',
  // CRI-O (containers/storage): userdata holds the bundle.
  'run/containers/storage/overlay-containers',
  'var/lib/containers/storage/overlay-containers',
] as const;

interface OciBundle {
  annotations?: Record<string, string>;
  linux?: { namespaces?: { type?: string; path?: string }[] };
}

/** The pod an OCI bundle's annotations name, with containerd's or CRI-O's keys. */
export function podOfAnnotations(a: Record<string, string>): PodName | undefined {
  const ns = a['io.kubernetes.cri.sandbox-namespace'] ?? a['io.kubernetes.pod.namespace'];
  const name = a['io.kubernetes.cri.sandbox-name'] ?? a['io.kubernetes.pod.name'];
  return ns && name ? `${ns}/${name}` : undefined;
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * The network namespace inodes of the pods whose sandboxes run on this node. `root` is the
 * node's root as this process sees it (`/`, or a host mount such as `/host`); `/proc` is that of
 * the host's pid namespace (hostPID). Unreadable bundles are skipped: the map is best effort.
 */
export function resolvePods(root = '/', proc = '/proc'): Map<number, PodName> {
  const out = new Map<number, PodName>();
  for (const dir of RUNTIME_STATE_DIRS) {
    const base = join(root, dir);
    if (!existsSync(base)) continue;
    let ids: string[];
    try {
      ids = readdirSync(base);
    } catch {
      continue;
    }
    for (const id of ids) {
      const bundleDir = existsSync(join(base, id, 'userdata', 'config.json'))
        ? join(base, id, 'userdata')
        : join(base, id);
      let spec: OciBundle;
      try {
        spec = JSON.parse(readFileSync(join(bundleDir, 'config.json'), 'utf8')) as OciBundle;
      } catch {
        continue;
      }
      const pod = podOfAnnotations(spec.annotations ?? {});
      if (!pod) continue;
      const netPath = spec.linux?.namespaces?.find((n) => n.type === 'network')?.path;
      let ino = netPath ? inodeOf(join(root, netPath)) : undefined;
      if (ino === undefined) {
        // No path (the runtime created the namespace): the sandbox's first process holds it.
        for (const f of ['init.pid', 'pidfile']) {
          const pid = (() => {
            try {
              return readFileSync(join(bundleDir, f), 'utf8').trim();
            } catch {
              return '';
            }
          })();
          if (/^\d+$/.test(pid)) ino = inodeOf(join(proc, pid, 'ns', 'net'));
          if (ino !== undefined) break;
        }
      }
      if (ino !== undefined) out.set(ino, pod);
    }
  }
  return out;
}

/** The `pwru_pods` line: `{"pwru_pods":{"node":...,"pods":{"<netns inode>":"namespace/name"}}}`. */
export function podsLine(pods: ReadonlyMap<number, PodName>, node: string | undefined): string {
  const o: Record<string, unknown> = {};
  if (node) o.node = node;
  o.pods = Object.fromEntries([...pods].map(([k, v]) => [String(k), v]));
  return JSON.stringify({ pwru_pods: o }) + '\n';
}
