import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { washingtonServing } from '../../test/support/cli-node.ts';
import { readConfig } from '../node/core/config.ts';
import { checkListenable, HOLDER_PROBE_MS, listenFailure } from './listen.ts';

const yaml = (address: string) => ({ address, setting: 'listen in hotline.yaml' });
const failure = (code: string) => Object.assign(new Error(`listen ${code}`), { code });

describe('a listener that cannot be opened is named in one sentence', () => {
  test('a port another program holds', async () => {
    // Another program: it reads what it is sent and never answers.
    const taken = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const started = Date.now();
      await expect(checkListenable([yaml(`127.0.0.1:${port}`)])).rejects.toThrow(
        `another program listens on 127.0.0.1:${port} (listen in hotline.yaml): stop it or choose another port`,
      );
      // It accepts and never answers: the refusal does not wait for it.
      expect(Date.now() - started).toBeLessThan(HOLDER_PROBE_MS + 500);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test('a port another Hotline node holds, said as such', async () => {
    const node = await washingtonServing('hotline-listen-');
    try {
      const operator = { address: node.operator, setting: 'operatorListen in hotline.yaml' };
      await expect(checkListenable([operator])).rejects.toThrow(
        `another Hotline node listens on ${node.operator} (operatorListen in hotline.yaml): stop it or choose another port`,
      );
      // Its federation listener asks for a client certificate; its own names its party.
      const { listen } = readConfig(node.us);
      await expect(checkListenable([yaml(listen)])).rejects.toThrow(
        `another Hotline node (party us) listens on ${listen} (listen in hotline.yaml): stop it or choose another port`,
      );
    } finally {
      await node.close();
    }
  }, 60_000);

  test('two listeners on one port, under different addresses', async () => {
    const operator = { address: '127.0.0.1:0', setting: 'operatorListen in hotline.yaml' };
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    operator.address = `127.0.0.1:${port}`;
    await expect(checkListenable([yaml(`0.0.0.0:${port}`), operator])).rejects.toThrow(
      `operatorListen in hotline.yaml names the port of listen in hotline.yaml (${port}): give each listener a port of its own`,
    );
  });

  test('an address not on this machine', async () => {
    await expect(checkListenable([yaml('192.0.2.1:20101')])).rejects.toThrow(
      '192.0.2.1 is not an address of this machine (listen in hotline.yaml: 192.0.2.1:20101): give one of its addresses, 127.0.0.1, or 0.0.0.0 for all',
    );
  });

  test('a low port without the privilege (as a user other than root sees it)', async () => {
    expect((await listenFailure(failure('EACCES'), yaml('0.0.0.0:443'))).message).toBe(
      'this user may not listen on 0.0.0.0:443 (listen in hotline.yaml): ports below 1024 need privileges; choose a port above 1023, or grant the program CAP_NET_BIND_SERVICE',
    );
  });

  test('free ports and port 0 open, and are closed again', async () => {
    await checkListenable([yaml('127.0.0.1:0'), { address: '127.0.0.1:0', setting: '--listen' }]);
  });
});
