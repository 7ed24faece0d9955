/**
 * The stolen-key attack of issue 15, for tests: a thief copies Washington's key files (not its
 * folder) and sends Beijing a message as Washington, signed with the stolen key, taking a seq.
 */
import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { newSalt, sealMessageFor } from '../../src/crypto/envelope.ts';
import { NodeKeys } from '../../src/crypto/keys.ts';
import { openSenderEpoch } from '../../src/crypto/seal.ts';
import { readOwnCard } from '../../src/node/core/data.ts';
import { readKeyFiles } from '../../src/node/core/keyfiles.ts';
import type { Body } from '../../src/protocol/body.ts';
import { fromBase64url } from '../../src/protocol/encoding.ts';
import type { Envelope } from '../../src/protocol/envelope.ts';
import type { BatchResult } from '../../src/protocol/federation.ts';
import { draft, type Pair } from './pair.ts';
import { peerFetch } from './tls.ts';

/** A copy of Washington's key files, as the thief holds them. */
export function stealKeys(pair: Pair): NodeKeys {
  const thief = join(pair.root, 'thief');
  cpSync(join(pair.us.dir, 'keys'), join(thief, 'keys'), { recursive: true });
  return new NodeKeys(readKeyFiles(join(thief, 'keys')));
}

/**
 * What the thief sends Beijing as Washington with seq `seq`: a flash signed with the stolen
 * signing key (a rotation: with the identity key), posted as Washington's node would post it.
 */
export async function forge(
  pair: Pair,
  stolen: NodeKeys,
  seq: number,
  text: string,
  kind: 'message' | 'rotation' = 'message',
): Promise<{ id: string; answer: BatchResult }> {
  const sealing = readOwnCard(pair.cn.dir).card.keys.find(
    (k) => k.purpose === 'sealing' && k.alg === 'x25519',
  );
  if (!sealing) throw new Error('no x25519 key');
  const epoch = await openSenderEpoch(
    'x25519',
    fromBase64url(sealing.pub),
    'us',
    'cn',
    randomBytes(16),
  );
  const signer = stolen.signer(kind === 'rotation' ? 'identity' : 'signing');
  const body = {
    salt: newSalt(),
    ...draft({ precedence: 'flash', status: 'actual', text: { lang: 'en', body: text } }),
  } as Body;
  const sealed = sealMessageFor(
    { kind, id: uuidv7(), from: 'us', seq: { cn: seq }, sent: new Date(), kid: signer.kid },
    body,
    signer.key,
    { cn: epoch },
  );
  const response = await peerFetch(
    pair.us.dir,
    `http://${pair.cn.listen}/federation/v1/envelopes`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ envelopes: [sealed.envelopes.cn as Envelope] }),
    },
  );
  return { id: sealed.header.id, answer: (await response.json()) as BatchResult };
}
