/**
 * Pinned mutual TLS in tests: requests to a node's federation listener or a relay made with a
 * given TLS identity (an attacker's or a peer's), a proxy in the middle, the identities a fault
 * proxy stands in the middle with, and a data folder taken back to protocol version 1 (no TLS
 * key, a card that pins none) as a node made before pinned TLS would have it.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server, connect as tlsConnect } from 'node:tls';
import { Agent, fetch, request } from 'undici';
import { createCard, signCard } from '../../src/crypto/card.ts';
import { makeTlsIdentity, type TlsIdentity } from '../../src/crypto/tls.ts';
import { readConfig, writeConfig } from '../../src/node/core/config.ts';
import { paths, readNodeKeys, readNodeTls, readOwnCard } from '../../src/node/core/data.ts';
import type { SignedCard } from '../../src/protocol/card.ts';
import { FaultProxy, type ProxyTls } from './faultproxy.ts';
import type { Site } from './pair.ts';

/** A site's own TLS key and certificate. */
export function tlsOf(dir: string): TlsIdentity {
  const tls = readNodeTls(dir);
  if (!tls) throw new Error(`${dir} has no TLS key`);
  return tls;
}

/**
 * What a fault proxy in TLS mode needs to stand between nodes: the target's TLS identity (data
 * folder `target`) and those of the nodes that call it through the proxy.
 */
export function proxyTls(target: string, ...clients: string[]): ProxyTls {
  return { target: tlsOf(target), clients: clients.map(tlsOf) };
}

/**
 * A fault proxy on `from`'s only path to `to`, standing in their pinned mutual TLS: `from`'s
 * config is written to reach `to` through it, so `from` is started after this.
 */
export async function proxyPath(from: Site, to: Site, seed: number): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({
    name: `to ${to.party}`,
    targetPort: Number(to.listen.split(':').pop()),
    seed,
    tls: proxyTls(to.dir, from.dir),
  });
  writeConfig(from.dir, {
    ...readConfig(from.dir),
    paths: { [to.party]: [{ id: 'direct', kind: 'direct', url: proxy.url, priority: 0 }] },
  });
  return proxy;
}

/**
 * POSTs (or GETs, without a body) to `https://<listen><path>` presenting `identity` (none: no
 * client certificate), accepting any server certificate. Answers the status and parsed body.
 */
export async function federationRequest(
  listen: string,
  path: string,
  identity: TlsIdentity | undefined,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const agent = new Agent({
    connect: {
      rejectUnauthorized: false,
      ...(identity ? { key: identity.key, cert: identity.cert } : {}),
    },
  });
  try {
    const response = await request(`https://${listen}${path}`, {
      dispatcher: agent,
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: text ? JSON.parse(text) : undefined };
  } finally {
    await agent.close();
  }
}

const agents = new Map<string, Agent>();

/**
 * `fetch` to a federation listener as the party of data folder `dir` (with its certificate, over
 * `https:` whatever `url` says), accepting any server certificate.
 */
export function peerFetch(dir: string, url: string, init: Parameters<typeof fetch>[1] = {}) {
  let agent = agents.get(dir);
  if (!agent) {
    const { key, cert } = tlsOf(dir);
    agent = new Agent({ connect: { key, cert, rejectUnauthorized: false } });
    agents.set(dir, agent);
  }
  return fetch(url.replace(/^http:/, 'https:'), { ...init, dispatcher: agent });
}

/**
 * Takes a data folder back to protocol version 1: its TLS files removed and its card signed again
 * without a pin (same keys, next serial), as a node made before pinned TLS has it. Answers the
 * card for the peer to pin.
 */
export function downgradeToVersion1(dir: string): SignedCard {
  const old = readOwnCard(dir).card;
  rmSync(join(paths(dir).keys, 'tls.key'));
  rmSync(join(paths(dir).keys, 'tls.crt'));
  const { tls: _tls, ...ext } = old.ext ?? {};
  const card = createCard({
    party: old.party,
    names: old.names,
    keys: old.keys,
    endpoints: old.endpoints.map((e) => ({ ...e, url: e.url.replace(/^https:/, 'http:') })),
    vocabulary: old.vocabulary,
    serial: old.serial,
    issued: new Date(old.issued),
    expires: new Date(old.expires),
  });
  if (Object.keys(ext).length) card.ext = ext;
  const signed = signCard(card, readNodeKeys(dir).signer('identity').key);
  writeFileSync(paths(dir).card, `${JSON.stringify(signed, null, 2)}\n`);
  return signed;
}

/**
 * A request to `url` over TLS presenting `identity` (none: no client certificate), accepting any
 * server certificate: answers the status and parsed body, and rejects when the server closes the
 * connection (a refused handshake).
 */
export async function tlsRequest(
  url: string,
  identity: TlsIdentity | undefined,
  init: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const agent = new Agent({
    connect: {
      rejectUnauthorized: false,
      ...(identity ? { key: identity.key, cert: identity.cert } : {}),
    },
  });
  try {
    const response = await request(url, {
      dispatcher: agent,
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: text ? JSON.parse(text) : undefined };
  } finally {
    await agent.close();
  }
}

/**
 * A TLS-terminating proxy in the middle: it answers on `port` with a certificate of its own and
 * forwards the bytes to `targetPort` over TLS (without a client certificate).
 */
export async function tlsProxy(port: number, targetPort: number): Promise<Server> {
  const own = await makeTlsIdentity('proxy');
  const proxy = createTlsServer({ key: own.key, cert: own.cert }, (client) => {
    const upstream = tlsConnect({ port: targetPort, host: '127.0.0.1', rejectUnauthorized: false });
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  return proxy;
}
