/**
 * Key rotation applied, on both sides (docs/protocol.md § Rotation; the procedure is in
 * docs/operators.md § Key rotation and compromise).
 *
 * Ours, `releaseRotation`: new identity and signing keys, a new card signed by the new identity
 * key, and a rotation message to every peer signed by the old identity key (routine) or by the
 * offline recovery key (compromise). A compromise rotation names, per peer, the first seq it
 * cannot vouch for (the first without a verified receipt): everything from there on is re-signed
 * with the new signing key in the same unit of work, so the honest messages a thief's forgeries
 * blocked are delivered again.
 *
 * Theirs, `applyRotation`, inside the unit of work that stores the rotation: re-pin the new card,
 * keep the replaced keys as retired keys valid up to the last trusted seq, and (compromise) move
 * the messages signed past that point by a key the new card does not hold out of the inbox into
 * `disputed` — kept whole, their ledger leaves untouched — freeing their seqs, with an alarm.
 */
import type { Logger } from 'pino';
import { createCard, signCard } from '../../crypto/card.ts';
import { type Ed25519SigningKey, privateKeyObject } from '../../crypto/ed25519.ts';
import { sealFor, signHeader } from '../../crypto/envelope.ts';
import { ed25519Key, type PrivateKey, sealingKey } from '../../crypto/keys.ts';
import type { Accepted } from '../../crypto/receive.ts';
import type { SenderEpoch } from '../../crypto/seal.ts';
import { cardPin } from '../../crypto/tls.ts';
import { envelopeLeaf, eventLeaf } from '../../ledger/leaves.ts';
import type { Body, Draft } from '../../protocol/body.ts';
import type { Card, KeyEntry, KeyPurpose, SignedCard } from '../../protocol/card.ts';
import { sha256, toHex } from '../../protocol/encoding.ts';
import type { Envelope } from '../../protocol/envelope.ts';
import { jcsBytes } from '../../protocol/jcs.ts';
import { UNTRUSTED_EXT, type Untrusted, untrustedOf } from '../../protocol/rotation.ts';
import type { RotationStore } from '../../store/rotations.ts';
import type { RetiredKey } from '../../store/schema.ts';
import type { Executor } from '../../store/store.ts';
import type { LedgerWriter } from '../record/ledger.ts';
import type { Alarms } from './alarms.ts';
import { DataDirError } from './data.ts';
import type { Node, Signer } from './node.ts';
import type { Peer, Peers } from './peers.ts';

/** Event leaf details list at most this many message ids (the count is always there). */
const IDS_IN_LEAF = 64;

export interface AppliedRotation {
  party: string;
  signed: SignedCard;
  retired: RetiredKey[];
  disputed: Array<{ id: string; seq: number }>;
}

/** What applying a peer's rotation writes with. */
export interface ApplyParts {
  rotations: RotationStore;
  alarms: Alarms;
  store: {
    putPeer(party: string, signed: SignedCard, retired: RetiredKey[], q: Executor): Promise<void>;
  };
}

/**
 * Applies an accepted rotation from `peer` (already checked by `receiveEnvelope`) inside the unit
 * of work that stores it. The caller re-pins `signed` in memory once the unit has committed.
 */
export async function applyRotation(
  parts: ApplyParts,
  tx: Executor,
  ledger: LedgerWriter,
  me: string,
  peer: Peer,
  accepted: Accepted,
  at: string,
): Promise<AppliedRotation> {
  const { header, body } = accepted;
  const rotation = body.rotation;
  if (!rotation) throw new Error('applyRotation needs a rotation body');
  const seq = header.seq[me] as number;
  const signed = rotation.card;
  const next = signed.card;
  const untrusted = rotation.reason === 'compromise' ? untrustedOf(body) : undefined;
  const valid = untrusted && !('error' in untrusted) ? untrusted : undefined;
  // The last seq the replaced keys may sign: before the rotation, or before the first seq the
  // owner cannot vouch for.
  const lastTrusted = (valid?.seq[me] ?? seq) - 1;
  const kept = new Set(next.keys.map((k) => k.kid));
  const retired: RetiredKey[] = [
    ...peer.retired.map((r) =>
      rotation.reason === 'compromise'
        ? { key: r.key, untilSeq: Math.min(r.untilSeq, lastTrusted) }
        : { key: r.key, untilSeq: r.untilSeq },
    ),
    ...peer.card.keys
      .filter((k) => !kept.has(k.kid))
      .map((key) => ({ key, untilSeq: lastTrusted })),
  ];
  const disputed =
    rotation.reason === 'compromise'
      ? await parts.rotations.dispute(peer.party, lastTrusted + 1, kept, header.id, at, tx)
      : [];
  await parts.store.putPeer(peer.party, signed, retired, tx);
  const replaced = peer.card.keys.filter((k) => !kept.has(k.kid)).map((k) => k.kid);
  await parts.rotations.add(
    {
      dir: 'in',
      party: peer.party,
      id: header.id,
      reason: rotation.reason,
      serial: next.serial,
      at,
      since: valid?.since ?? null,
      untrusted: valid ? { [me]: lastTrusted + 1 } : null,
      detail: { replaced, disputed, previous: peer.signed },
    },
    tx,
  );
  await ledger.append([
    eventLeaf('rotation', at, {
      party: peer.party,
      id: header.id,
      reason: rotation.reason,
      serial: next.serial,
      identity: identityKid(next),
      replaced,
      ...(valid ? { since: valid.since, untrustedFrom: lastTrusted + 1 } : {}),
      disputed: disputed.length,
      disputedIds: disputed.slice(0, IDS_IN_LEAF).map((d) => d.id),
    }),
  ]);
  if (rotation.reason === 'compromise')
    await parts.alarms.write(
      tx,
      ledger,
      'compromise',
      peer.party,
      `"${peer.party}" declared its keys compromised${valid ? ` since ${valid.since}` : ''}: ` +
        `its messages from seq ${lastTrusted + 1} signed by the old keys are disputed ` +
        `(${disputed.length}${
          disputed.length
            ? `: ${disputed
                .map((d) => `seq ${d.seq} ${d.id}`)
                .slice(0, 8)
                .join(', ')}`
            : ''
        }); ` +
        `new card serial ${next.serial} pinned`,
    );
  return { party: peer.party, signed, retired, disputed };
}

export interface RotateRequest {
  reason: 'routine' | 'compromise';
  /** Compromise: the recovery key's private half, brought from where it is kept offline. */
  recovery?: PrivateKey;
  /** Compromise: from when the old keys are not trusted (the operator's word; now by default). */
  since?: Date;
  /**
   * The vocabulary the new card announces: the one the node now loads, so that installing a new
   * vocabulary file and rotating tells the peer in-band (docs/language.md). The old card's when
   * absent.
   */
  vocabulary?: { version: string; hash: string };
  /**
   * The pin of the node's TLS certificate for the new card (a folder made before pinned TLS gets
   * its TLS key with its first rotation); the old card's when absent.
   */
  tlsPin?: string;
  now: Date;
  /** Makes each new key: in the process by default (a key file follows), or on a token. */
  newKey?: NewKey;
}

/** A new online key: its entry, what signs with it (Ed25519), and (a key file's) its secret. */
interface NewOnlineKey {
  entry: KeyEntry;
  key?: Ed25519SigningKey;
  file?: PrivateKey;
}

/** A new Ed25519 key of a purpose (log and witness keys with their note name). */
export type NewKey = (
  purpose: KeyPurpose,
  name?: string,
) => { entry: KeyEntry; key: Ed25519SigningKey; file?: PrivateKey };

/** A new key in the process, whose secret goes into a key file. */
export const newFileKey: NewKey = (purpose, name) => {
  const file = ed25519Key(purpose, undefined, name);
  return { entry: file.entry, key: privateKeyObject(file.secret), file };
};

export interface RotateResult {
  id: string;
  signed: SignedCard;
  /** The new online keys made in the process (all but recovery and those on a token), for the key files. */
  keys: PrivateKey[];
  untrusted: Record<string, number> | undefined;
  resigned: Array<{ party: string; id: string; seq: number }>;
}

export interface RotateParts {
  card: SignedCard;
  node: Node;
  peers: Peers;
  rotations: RotationStore;
  logger: Logger;
}

/**
 * Releases our rotation to every pinned peer, in one unit of work with (compromise) the
 * re-signing of every message from each peer's first untrusted seq. The caller puts the new keys
 * and card in place.
 */
export async function releaseRotation(
  parts: RotateParts,
  request: RotateRequest,
): Promise<RotateResult> {
  const { card, node, peers, rotations } = parts;
  const old = card.card;
  const recoveryEntry = old.keys.find((k) => k.purpose === 'recovery');
  let signer: Signer | undefined;
  if (request.reason === 'compromise') {
    if (!request.recovery || request.recovery.entry.kid !== recoveryEntry?.kid)
      throw new DataDirError(
        "that is not this party's recovery key: a compromise rotation is signed by it",
      );
    signer = { kid: request.recovery.entry.kid, key: privateKeyObject(request.recovery.secret) };
  }
  // Every online key is replaced: whoever took one took all (they sit together in the key
  // folder). The recovery key never rotates; log and witness keys keep their note names. Keys of
  // purposes on a token are made there (`newKey`).
  const newKey = request.newKey ?? newFileKey;
  const online = old.keys.filter((k) => k.purpose !== 'recovery');
  const made = await Promise.all(online.map((entry) => successor(entry, newKey)));
  const byKid = new Map(online.map((k, i) => [k.kid, made[i] as NewOnlineKey]));
  const identity = madeSigner(made, 'identity');
  const next: Card = createCard({
    party: old.party,
    names: old.names,
    keys: old.keys.map((k) => byKid.get(k.kid)?.entry ?? k),
    endpoints: old.endpoints,
    vocabulary: request.vocabulary ?? old.vocabulary,
    tlsPin: request.tlsPin ?? cardPin(old.ext),
    serial: old.serial + 1,
    issued: request.now,
  });
  if (old.ext || next.ext) next.ext = { ...old.ext, ...next.ext };
  const signed = signCard(next, identity.key);
  const recipients = [...peers.keys()];
  if (!recipients.length) throw new DataDirError('there is no pinned peer to tell');
  const untrusted: Record<string, number> = {};
  if (request.reason === 'compromise')
    for (const party of recipients)
      untrusted[party] = await rotations.firstUnreceipted(party, rotations.db);
  const since = (request.since ?? request.now).toISOString();
  const draft: Draft = {
    type: 'rotation',
    precedence: 'flash',
    status: 'actual',
    tlp: 'green',
    codes: [],
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
    rotation: { reason: request.reason, card: signed },
    ...(request.reason === 'compromise'
      ? { ext: { [UNTRUSTED_EXT]: { since, seq: untrusted } satisfies Untrusted } }
      : {}),
  };
  const epochs: Record<string, SenderEpoch> = {};
  for (const party of recipients) epochs[party] = await node.sealingEpoch(party);
  const resigned: RotateResult['resigned'] = [];
  const signing = madeSigner(made, 'signing');
  const newSigner = signing.key;
  const released = await node.release(
    recipients,
    draft,
    request.now,
    {
      write: async (tx, released, ledger) => {
        const at = request.now.toISOString();
        if (request.reason === 'compromise')
          for (const party of recipients) {
            const from = untrusted[party] as number;
            for (const row of await rotations.outboxFrom(party, from, tx)) {
              if (row.id === released.id) continue;
              const envelope = resign(
                row.envelope,
                row.body,
                signing.entry.kid,
                newSigner,
                epochs[party] as SenderEpoch,
              );
              const index = await ledger.append([envelopeLeaf('out', at, envelope)]);
              await rotations.resign(party, row.id, envelope, headerHash(envelope), index, tx);
              resigned.push({ party, id: row.id, seq: row.seq });
            }
          }
        const replaced = [...byKid.keys()];
        await rotations.add(
          {
            dir: 'out',
            party: old.party,
            id: released.id,
            reason: request.reason,
            serial: next.serial,
            at,
            since: request.reason === 'compromise' ? since : null,
            untrusted: request.reason === 'compromise' ? untrusted : null,
            detail: { replaced, resigned, previous: card },
          },
          tx,
        );
        await ledger.append([
          eventLeaf('rotation', at, {
            party: old.party,
            id: released.id,
            reason: request.reason,
            serial: next.serial,
            identity: identityKid(next),
            replaced,
            ...(request.reason === 'compromise' ? { since, untrusted } : {}),
            resigned: resigned.length,
            resignedIds: resigned.slice(0, IDS_IN_LEAF).map((r) => r.id),
          }),
        ]);
      },
    },
    signer,
  );
  parts.logger.warn(
    { id: released.id, reason: request.reason, serial: next.serial, resigned: resigned.length },
    'key rotation released',
  );
  return {
    id: released.id,
    signed,
    keys: made.flatMap((k) => (k.file ? [k.file] : [])),
    untrusted: request.reason === 'compromise' ? untrusted : undefined,
    resigned,
  };
}

/** The same message under a new signing key: the header's kid changes, so it is sealed anew. */
function resign(
  envelope: Envelope,
  body: Body,
  kid: string,
  signer: Signer['key'],
  epoch: SenderEpoch,
): Envelope {
  const header = { ...envelope.header, kid };
  const headerBytes = jcsBytes(header);
  return {
    header,
    sig: signHeader(header, signer),
    sealed: sealFor(epoch, headerBytes, jcsBytes(body)),
  };
}

/**
 * The new card's identity key id, in the rotation's event leaf: with the serial it names the card
 * (a compromise rotation may repeat the serial of a thief's card).
 */
function identityKid(card: Card): string | undefined {
  return card.keys.find((k) => k.purpose === 'identity')?.kid;
}

/** A new key of the online key's purpose, algorithm and note name. */
async function successor(entry: KeyEntry, newKey: NewKey): Promise<NewOnlineKey> {
  if (entry.alg === 'ed25519') return newKey(entry.purpose, entry.name);
  const file = await sealingKey(entry.alg);
  return { entry: file.entry, file };
}

/** The new key of a signing purpose, with what signs with it. */
function madeSigner(made: readonly NewOnlineKey[], purpose: KeyPurpose) {
  const found = made.find((k) => k.entry.purpose === purpose);
  if (!found?.key) throw new DataDirError(`the card has no ${purpose} key to replace`);
  return { entry: found.entry, key: found.key };
}

function headerHash(envelope: Envelope): string {
  return toHex(sha256(jcsBytes(envelope.header)));
}
