/**
 * Keys in hardware, against SoftHSM2 (Debian's softhsm2, a PKCS#11 3.0 token in files): Washington
 * makes its identity, signing, log and witness keys on a token with `hotline init --pkcs11-…`;
 * Beijing keeps key files. Messages go both ways, both ledgers' checkpoints and co-signatures
 * verify, the private keys cannot be read off the token, and a wrong PIN stops `init` and `serve`
 * with E_PKCS11_PIN before anything is written.
 *
 * Nothing here is skipped: without softhsm2 the suite fails and says what to install.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SignedCard } from '../../src/protocol/card.ts';
import { fromBase64url } from '../../src/protocol/encoding.ts';
import {
  BEIJING,
  draft,
  HotlineNode,
  hotline,
  hotlineOk,
  type InboxItem,
  killAll,
  removeUnlessKept,
  type Status,
  until,
  WASHINGTON,
} from './nodes.ts';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const LABEL = 'hotline-test';
const PIN = '246810';
const ON_TOKEN = ['identity', 'signing', 'log', 'witness'] as const;

/** A fresh SoftHSM2 token in `root`, for this process and the nodes it starts (SOFTHSM2_CONF). */
function softToken(root: string): void {
  let util = '';
  try {
    util = execFileSync('softhsm2-util', ['--version'], { encoding: 'utf8' });
  } catch {}
  if (!util || !existsSync(MODULE))
    throw new Error(
      `softhsm2 is not installed (no softhsm2-util, or no ${MODULE}): apt-get install softhsm2 — .ci/run installs it`,
    );
  const tokens = join(root, 'tokens');
  mkdirSync(tokens);
  const conf = join(root, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\n`);
  process.env.SOFTHSM2_CONF = conf;
  execFileSync('softhsm2-util', [
    '--init-token',
    '--free',
    '--label',
    LABEL,
    '--so-pin',
    '13579135',
    '--pin',
    PIN,
  ]);
}

function secretFile(root: string, name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  return path;
}

const tokenArgs = (pinFile: string) => [
  '--pkcs11-module',
  MODULE,
  '--pkcs11-token',
  LABEL,
  '--pkcs11-pin-file',
  pinFile,
];

describe('keys on a PKCS#11 token (SoftHSM2)', () => {
  let root: string;
  let pinFile: string;
  let us: HotlineNode;
  let cn: HotlineNode;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'hotline-pkcs11-'));
    softToken(root);
    pinFile = secretFile(root, 'pin', PIN);
  });

  afterAll(async () => {
    await killAll();
    removeUnlessKept(root);
  });

  test('a wrong PIN stops init with E_PKCS11_PIN, and no folder is made', async () => {
    const dir = join(root, 'refused');
    const r = await hotline([
      'init',
      '--data',
      dir,
      '--party',
      'us',
      '--name-en',
      'Washington',
      ...tokenArgs(secretFile(root, 'wrong-pin', '000000')),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^hotline: E_PKCS11_PIN: the token "hotline-test" refused the login \(CKR_PIN_INCORRECT\): check the PIN$/,
    );
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  test('init makes the four signing keys on the token: the card has their public halves, the folder no file of them', async () => {
    [us, cn] = await Promise.all([
      HotlineNode.init(root, WASHINGTON, {}, { initArgs: tokenArgs(pinFile) }),
      HotlineNode.init(root, BEIJING),
    ]);
    expect(us.initOutput.stdout).toContain('made on the PKCS#11 token');
    expect(readdirSync(join(us.dir, 'keys')).sort()).toEqual([
      'recovery-OFFLINE.key',
      'sealing-x-wing.key',
      'sealing-x25519.key',
      // The TLS key stays a file: it authenticates connections, and its card pin is signed.
      'tls.crt',
      'tls.key',
      'vapid.key',
    ]);
    expect(readFileSync(us.configFile, 'utf8')).not.toContain(PIN);
  }, 120_000);

  test('the private keys on the token are sensitive: CKA_VALUE is refused, and they match the card', () => {
    const card = (JSON.parse(readFileSync(join(us.dir, 'card.json'), 'utf8')) as SignedCard).card;
    const pkcs11 = createRequire(import.meta.url)('pkcs11js') as typeof import('pkcs11js');
    const lib = new pkcs11.PKCS11();
    lib.load(MODULE);
    lib.C_Initialize();
    try {
      const slot = lib
        .C_GetSlotList(true)
        .find((s) => lib.C_GetTokenInfo(s).label.trim() === LABEL) as Buffer;
      const session = lib.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION);
      lib.C_Login(session, pkcs11.CKU_USER, PIN);
      const find = (cls: number, label: string) => {
        lib.C_FindObjectsInit(session, [
          { type: pkcs11.CKA_CLASS, value: cls },
          { type: pkcs11.CKA_LABEL, value: label },
        ]);
        const found = lib.C_FindObjects(session, 4);
        lib.C_FindObjectsFinal(session);
        expect(found, label).toHaveLength(1);
        return found[0] as Buffer;
      };
      for (const purpose of ON_TOKEN) {
        const entry = card.keys.find((k) => k.purpose === purpose);
        const label = `hotline-us-${purpose}`;
        const priv = find(pkcs11.CKO_PRIVATE_KEY, label);
        let refused: unknown;
        try {
          lib.C_GetAttributeValue(session, priv, [{ type: pkcs11.CKA_VALUE }]);
        } catch (e) {
          refused = e;
        }
        expect((refused as Error | undefined)?.message, purpose).toMatch(/CKR_ATTRIBUTE_SENSITIVE/);
        const [id, extractable] = lib
          .C_GetAttributeValue(session, priv, [
            { type: pkcs11.CKA_ID },
            { type: pkcs11.CKA_EXTRACTABLE },
          ])
          .map((a) => a.value as Buffer);
        expect(id?.toString('hex')).toBe(entry?.kid);
        expect(extractable?.[0]).toBe(0);
        const [point] = lib.C_GetAttributeValue(session, find(pkcs11.CKO_PUBLIC_KEY, label), [
          { type: pkcs11.CKA_EC_POINT },
        ]);
        expect(new Uint8Array((point as { value: Buffer }).value.subarray(2))).toEqual(
          fromBase64url(entry?.pub ?? ''),
        );
      }
      lib.C_CloseSession(session);
    } finally {
      lib.C_Finalize();
    }
  });

  test('messages go both ways between the token node and the file node, and are receipted', async () => {
    await Promise.all([us.pin(cn), cn.pin(us)]);
    await Promise.all([us.start(), cn.start()]);
    const message = (text: string) => draft(text, 'flash');
    const sent = await us.api<{ id: string }>('POST', '/api/v1/messages', {
      to: ['cn'],
      message: message('Signed on the token.'),
    });
    const answer = await cn.api<{ id: string }>('POST', '/api/v1/messages', {
      to: ['us'],
      message: message('Received, signed from a file.'),
    });
    const arrived = async (node: HotlineNode, id: string) =>
      (await node.api<InboxItem[]>('GET', '/api/v1/inbox?limit=10')).find((m) => m.id === id);
    const atCn = await until('the token-signed message at cn', () => arrived(cn, sent.id), 30_000);
    const atUs = await until('the answer at us', () => arrived(us, answer.id), 30_000);
    expect(atCn.body.text?.body).toBe('Signed on the token.');
    expect(atUs.body.text?.body).toBe('Received, signed from a file.');
    for (const node of [us, cn])
      await until(
        `${node.party}'s message receipted`,
        async () => {
          const outbox = await node.api<Array<{ status: string }>>('GET', '/api/v1/outbox');
          return outbox.length === 1 && outbox.every((r) => r.status === 'receipted');
        },
        30_000,
      );
  }, 150_000);

  test('both ledgers, exported, verify against each other: checkpoints and co-signatures hold', async () => {
    const files = [join(root, 'us.jsonl'), join(root, 'cn.jsonl')];
    // Each side co-signs the other's checkpoints on its heartbeats: export once both have some.
    const report = await until(
      'co-signatures in both ledgers',
      async () => {
        await hotlineOk(['export', '--data', us.dir, '--out', files[0] as string]);
        await hotlineOk(['export', '--data', cn.dir, '--out', files[1] as string]);
        const r = await hotline(
          ['verify', ...files.slice(0, 1), '--peer-export', files[1] as string, '--json'],
          120_000,
        );
        expect(r.code, r.stdout.slice(0, 2000)).toBe(0);
        const verified = JSON.parse(r.stdout) as {
          ok: boolean;
          bundles: Array<{ party: string; counts: { checkpoints: number; cosignatures: number } }>;
        };
        return verified.bundles.every((b) => b.counts.cosignatures > 0) && verified;
      },
      90_000,
      2000,
    );
    expect(report.ok).toBe(true);
    expect(report.bundles.map((b) => b.party).sort()).toEqual(['cn', 'us']);
    for (const bundle of report.bundles) expect(bundle.counts.checkpoints).toBeGreaterThan(0);
  }, 300_000);

  test('a wrong PIN stops serve with E_PKCS11_PIN; the right one serves again', async () => {
    await us.stop();
    writeFileSync(pinFile, '135790\n', { mode: 0o600 });
    const r = await hotline(['serve', '--data', us.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^hotline: E_PKCS11_PIN: .*CKR_PIN_INCORRECT/);
    expect(existsSync(join(us.dir, 'node.json'))).toBe(false);
    writeFileSync(pinFile, `${PIN}\n`, { mode: 0o600 });
    await us.start();
  }, 120_000);

  test('a routine rotation makes the new keys on the token; the peer takes the new card and what it signs', async () => {
    await us.stop();
    const old = (JSON.parse(readFileSync(join(us.dir, 'card.json'), 'utf8')) as SignedCard).card;
    const rotated = JSON.parse(
      (await hotlineOk(['rotate', '--data', us.dir, '--json'])).stdout,
    ) as {
      signed: SignedCard;
    };
    const kid = (card: SignedCard['card'], purpose: string) =>
      card.keys.find((k) => k.purpose === purpose)?.kid;
    for (const purpose of ['identity', 'signing'])
      expect(kid(rotated.signed.card, purpose)).not.toBe(kid(old, purpose));
    expect(readdirSync(join(us.dir, 'keys'))).not.toContain('signing.key');
    const fingerprint = /^Fingerprint: (.+)$/m.exec(
      (await hotlineOk(['card', '--data', us.dir])).stderr,
    )?.[1];
    await us.start();
    const sent = await us.api<{ id: string }>('POST', '/api/v1/messages', {
      to: ['cn'],
      message: {
        type: 'test',
        precedence: 'flash',
        status: 'test',
        tlp: 'clear',
        codes: [],
        text: { lang: 'en', body: 'Signed by the new key on the token.' },
        translations: [],
        attachments: [],
        author: { desk: 'ops' },
        approvals: [],
      },
    });
    await until(
      'the message signed by the new token key at cn',
      async () =>
        (await cn.api<InboxItem[]>('GET', '/api/v1/inbox?limit=10')).some((m) => m.id === sent.id),
      60_000,
    );
    const status = await cn.api<Status>('GET', '/api/v1/status');
    expect(status.peers[0]?.fingerprint).toBe(fingerprint);
  }, 180_000);
});
