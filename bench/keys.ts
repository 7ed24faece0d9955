/**
 * `npm run bench -- keys`: what a signature costs when the key is on a PKCS#11 token (SoftHSM2,
 * CKM_EDDSA through pkcs11js) beside the in-process Ed25519 signature the file keys make — the
 * floor, measured in the same run, interleaved. Both sign the same envelope header bytes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedBytes } from '../src/crypto/context.ts';
import { ed25519Sign, generateEd25519, privateKeyObject } from '../src/crypto/ed25519.ts';
import { TokenSession } from '../src/node/core/pkcs11.ts';
import { utf8 } from '../src/protocol/encoding.ts';
import { type Figure, prepare, timeAll } from './protocol.ts';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '246810';

export interface KeysFigures {
  inProcess: Figure;
  token: Figure;
  /** Token sign time over in-process sign time (medians). */
  ratio: number;
}

export async function benchKeys(options: { json: boolean }): Promise<KeysFigures> {
  const root = mkdtempSync(join(tmpdir(), 'hotline-bench-keys-'));
  try {
    mkdirSync(join(root, 'tokens'));
    writeFileSync(
      join(root, 'softhsm2.conf'),
      `directories.tokendir = ${join(root, 'tokens')}\nobjectstore.backend = file\n`,
    );
    process.env.SOFTHSM2_CONF = join(root, 'softhsm2.conf');
    execFileSync('softhsm2-util', [
      '--init-token',
      '--free',
      '--label',
      'bench',
      '--so-pin',
      '13579135',
      '--pin',
      PIN,
    ]);
    const session = TokenSession.open({ module: MODULE, token: 'bench' }, PIN);
    try {
      const onToken = session.generate('signing', 'bench-signing').key;
      const inProcess = privateKeyObject(generateEd25519().seed);
      // An envelope header's signed bytes, about the size of a real one.
      const message = signedBytes('envelope', utf8(JSON.stringify({ header: 'x'.repeat(300) })));
      const [file, token] = await timeAll([
        await prepare('Ed25519 sign, key in process (node:crypto)', () =>
          ed25519Sign(inProcess, message),
        ),
        await prepare('Ed25519 sign, key on PKCS#11 token (SoftHSM2)', () =>
          ed25519Sign(onToken, message),
        ),
      ]);
      const figures = {
        inProcess: file as Figure,
        token: token as Figure,
        ratio: (token as Figure).usPerOp / (file as Figure).usPerOp,
      };
      if (!options.json) printKeys(figures);
      return figures;
    } finally {
      session.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function printKeys(f: KeysFigures): void {
  console.log('\n## Keys: signing on a PKCS#11 token beside in-process Ed25519 (the floor)');
  for (const x of [f.inProcess, f.token])
    console.log(
      `${x.name.padEnd(48)} ${x.usPerOp.toFixed(1).padStart(8)} µs/op  ${Math.round(x.opsPerSecond).toString().padStart(7)} /s  (best ${x.bestUsPerOp.toFixed(1)} µs, spread ${(x.spread * 100).toFixed(0)} %)`,
    );
  console.log(`token / in-process: ${f.ratio.toFixed(1)}×`);
}
