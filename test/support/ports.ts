/**
 * Ports for test nodes on loopback. A node's port is written in its card before it listens, and a
 * killed node must get its port back on restart, so the port is chosen below the kernel's
 * ephemeral range: there, no outgoing connection of another test can take it meanwhile.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

function listenable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === 'object' && address ? address.port : undefined),
      );
    });
  });
}

/** The lowest port the kernel hands out to outgoing connections (Linux), or 32768. */
function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > 1024 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** Ports this process has handed out: a stopped node keeps its port, so it is not given again. */
const given = new Set<number>();

/**
 * A port nobody listens on right now. It is chosen below the kernel's ephemeral range when it can
 * be: a node that is killed and restarted must get its port back, and a port in the ephemeral
 * range could meanwhile be taken as the local end of some outgoing connection. Each test worker
 * (`VITEST_POOL_ID`) draws from a slice of its own, and never twice the same port: a port probed or
 * handed out elsewhere while a node of this worker is stopped cannot be its port.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  const slices = 8;
  const width = Math.floor((low - 10_000) / slices);
  if (width > 100) {
    const slice = Number(process.env.VITEST_POOL_ID ?? 0) % slices;
    const base = 10_000 + slice * width;
    for (let tries = 0; tries < 50; tries++) {
      const candidate = base + Math.floor(Math.random() * width);
      if (given.has(candidate)) continue;
      const port = await listenable(candidate);
      if (port) {
        given.add(port);
        return port;
      }
    }
  }
  const port = await listenable(0);
  if (!port) throw new Error('no free port');
  return port;
}
