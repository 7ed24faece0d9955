import { expect, test } from 'vitest';
import { body, makeParty, send } from '../../test/support/world.ts';
import { jcs } from '../protocol/jcs.ts';
import { envelopeLeaf, hashLeaf, receivedLeafHash } from './leaves.ts';

/**
 * A sender checks each receipt entry against the `in` leaf the peer logged for what it sent. It
 * hashes that leaf from its own stored `out` leaf with only the head changed: the hash must be the
 * one the peer's log holds, or no receipt would verify.
 */
test('the peer’s in leaf is hashed from our out leaf’s text as if built from the envelope', async () => {
  const us = await makeParty('us', { cn: 'Beijing' });
  const cn = await makeParty('cn', { us: 'Washington' });
  const sealed = await send(us, [{ to: cn, seq: 1 }], body());
  const envelope = sealed.envelopes.cn;
  if (!envelope) throw new Error('no envelope for cn');
  const out = jcs(envelopeLeaf('out', '2026-12-06T10:00:00.000Z', envelope));
  for (const at of ['2026-12-06T10:00:00.004Z', '2027-01-01T00:00:00Z'])
    expect(receivedLeafHash(out, at)).toEqual(hashLeaf(envelopeLeaf('in', at, envelope)));
  // Any other form of text is refused rather than hashed wrong.
  for (const other of [
    JSON.stringify(envelopeLeaf('out', '2026-12-06T10:00:00.000Z', envelope), null, 1),
    out.replace('"dir":"out"', '"dir":"in"'),
    out.replace('"at":"2026-12-06T10:00:00.000Z"', '"at":"x\\",\\"dir\\":\\"out\\","'),
  ])
    expect(receivedLeafHash(other, '2026-12-06T10:00:00.004Z')).toBeUndefined();
});
