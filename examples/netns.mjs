// @ts-check
// Test traffic for the examples: network namespaces made and removed by the example itself, so
// nothing it sends leaves them. Needs root and iproute2 (`ip`).
import { execFileSync } from 'node:child_process';

/** Runs a command; returns its stdout. @param {string} file @param {...string} args */
const run = (file, ...args) => execFileSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const tag = `${process.pid % 100000}`;

/**
 * Two namespaces joined by a veth pair: `a` holds veth0 = 10.201.X.1, `b` holds veth1 = 10.201.X.2.
 * `send(port, count)` sends `count` UDP datagrams from a to b; `destroy()` removes both.
 */
export function netnsPair() {
  const a = `ex-${tag}-a`;
  const b = `ex-${tag}-b`;
  const x = process.pid % 250;
  const destroy = () => {
    for (const ns of [a, b]) {
      try {
        run('ip', 'netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  };
  try {
    run('ip', 'netns', 'add', a);
    run('ip', 'netns', 'add', b);
    run('ip', '-n', a, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', b);
    run('ip', '-n', a, 'addr', 'add', `10.201.${x}.1/30`, 'dev', 'veth0');
    run('ip', '-n', b, 'addr', 'add', `10.201.${x}.2/30`, 'dev', 'veth1');
    for (const [ns, dev] of Object.entries({ [a]: 'veth0', [b]: 'veth1' })) {
      run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      run('ip', '-n', ns, 'link', 'set', dev, 'up');
    }
  } catch (e) {
    destroy();
    throw e;
  }
  const addrB = `10.201.${x}.2`;
  return {
    a,
    b,
    addrB,
    /** @param {number} port @param {number} [count] */
    send(port, count = 1) {
      run(
        'ip',
        'netns',
        'exec',
        a,
        'bash',
        '-c',
        `for i in $(seq ${count}); do echo hi > /dev/udp/${addrB}/${port}; done`,
      );
    },
    destroy,
  };
}

/** A namespace with only loopback up; `send(port, count)` sends UDP datagrams to 127.0.0.1 inside it. */
export function loopbackNetns() {
  const ns = `ex-${tag}-lo`;
  run('ip', 'netns', 'add', ns);
  try {
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  } catch (e) {
    run('ip', 'netns', 'del', ns);
    throw e;
  }
  return {
    ns,
    /** @param {number} port @param {number} [count] */
    send(port, count = 1) {
      run(
        'ip',
        'netns',
        'exec',
        ns,
        'bash',
        '-c',
        `for i in $(seq ${count}); do echo hi > /dev/udp/127.0.0.1/${port} || true; done`,
      );
    },
    destroy() {
      run('ip', 'netns', 'del', ns);
    },
  };
}
