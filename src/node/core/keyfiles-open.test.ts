/**
 * docs/security.md § Key files: a third party holding a node's key files (and their passphrase)
 * opens the sealed bodies addressed to that node with the recipe written there, using nothing of
 * Hotline's code (test/support/third-party.ts: node:crypto, @hpke and `canonicalize` alone).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSealedBody, secretOfKeyFile } from '../../../test/support/third-party.ts';
import { body as makeBody } from '../../../test/support/world.ts';
import { privateKeyObject } from '../../crypto/ed25519.ts';
import { sealMessageFor } from '../../crypto/envelope.ts';
import { generateNodeKeys, type PrivateKey } from '../../crypto/keys.ts';
import { openSenderEpoch } from '../../crypto/seal.ts';
import { writeKeyFiles } from './keyfiles.ts';

const PASSPHRASE = 'correct horse battery staple, twice';
const b64url = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

describe('a third party holding a node’s keys opens its sealed bodies', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it.each(['x-wing', 'x25519'] as const)(
    'sealed to the %s key, from key files sealed with a passphrase',
    async (suite) => {
      root = mkdtempSync(join(tmpdir(), 'hotline-open-'));
      const cn = await generateNodeKeys('cn');
      writeKeyFiles(join(root, 'keys'), cn, PASSPHRASE);
      const us = await generateNodeKeys('us');
      const signing = us.find((k) => k.entry.purpose === 'signing') as PrivateKey;
      const sealingOf = (k: PrivateKey) => k.entry.purpose === 'sealing' && k.entry.alg === suite;
      const cnSealing = cn.find(sealingOf) as PrivateKey;
      const epoch = await openSenderEpoch(
        suite,
        b64url(cnSealing.entry.pub),
        'us',
        'cn',
        new Uint8Array(randomBytes(16)),
      );
      const body = makeBody({ text: { lang: 'en', body: 'Sealed for Beijing.' } });
      const message = sealMessageFor(
        {
          kind: 'message',
          id: '01937a8e-4f00-7000-8000-0000000000ab',
          from: 'us',
          seq: { cn: 1 },
          sent: new Date('2026-12-06T03:00:00Z'),
          kid: signing.entry.kid,
        },
        body,
        privateKeyObject(signing.secret),
        { cn: epoch },
      );
      const file = readFileSync(join(root, 'keys', `sealing-${suite}.key`), 'utf8');
      expect(JSON.parse(file)).not.toHaveProperty('secret');
      const secret = secretOfKeyFile(file, PASSPHRASE);
      const opened = await openSealedBody(message.envelopes.cn as never, 'cn', secret);
      expect(opened).toEqual(body);
      expect(() => secretOfKeyFile(file, 'a wrong passphrase of some length')).toThrow();
    },
  );
});
