/**
 * `hotline rotate` on a stopped node's data folder: the rotation released into the outbox
 * (src/node/core/rotation.ts), then the new keys and card put in place. The node sends it when it
 * next starts.
 */
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { makeTlsIdentity } from '../crypto/tls.ts';
import { readConfig } from '../node/core/config.ts';
import {
  DataDirError,
  openNodeStore,
  paths,
  readNodeKeys,
  readNodeTls,
  readOwnCard,
} from '../node/core/data.ts';
import {
  readRecoveryKeyFile,
  replaceKeyFiles,
  successorPassphrase,
  writeTlsFiles,
} from '../node/core/keyfiles.ts';
import { runningNode } from '../node/core/paths.ts';
import { TokenSession, tokenPin } from '../node/core/pkcs11.ts';
import {
  type NewKey,
  newFileKey,
  type RotateResult,
  releaseRotation,
} from '../node/core/rotation.ts';
import { buildServices } from './services.ts';

export interface RotateOptions {
  reason: 'routine' | 'compromise';
  /** Compromise: the recovery key file brought back from offline storage. */
  recoveryKeyFile?: string;
  since?: Date;
  now?: Date;
}

export async function rotateDataDir(dir: string, options: RotateOptions): Promise<RotateResult> {
  const running = runningNode(dir);
  if (running)
    throw new DataDirError(
      `the node of ${dir} is running (process ${running.pid}): stop it, then rotate`,
    );
  if (options.reason === 'compromise' && !options.recoveryKeyFile)
    throw new DataDirError('a compromise rotation needs the recovery key file (--recovery-key)');
  const recovery = options.recoveryKeyFile ? recoveryKey(options.recoveryKeyFile) : undefined;
  const config = readConfig(dir);
  const keys = readNodeKeys(dir, config);
  const token = config.keys.pkcs11;
  // New keys of the purposes on the token are made there, under the same labels (a new CKA_ID).
  const session = token ? TokenSession.open(token, tokenPin(token)) : undefined;
  const newKey: NewKey = (purpose, name) => {
    const label = token?.labels[purpose as keyof typeof token.labels];
    return session && label ? session.generate(purpose, label, name) : newFileKey(purpose, name);
  };
  // A folder made before pinned TLS gets its TLS key now: the new card pins it, and the rotation
  // tells the peers (docs/operators.md § Moving to pinned TLS).
  const tls = readNodeTls(dir);
  const madeTls = tls ? undefined : await makeTlsIdentity(config.party, options.now);
  const phrase = madeTls ? successorPassphrase(paths(dir).keys) : undefined;
  const store = await openNodeStore(dir, config);
  try {
    const services = await buildServices({
      config,
      keys,
      card: readOwnCard(dir),
      store,
      logger: pino({ level: 'silent' }),
      clock: () => options.now ?? new Date(),
    });
    // The node is stopped: delivery is its business when it starts, not this command's.
    services.events.removeAllListeners('released');
    services.events.removeAllListeners('timers-due');
    const now = options.now ?? new Date();
    const result = await releaseRotation(services, {
      reason: options.reason,
      now,
      vocabulary: services.language.vocabulary.ref,
      newKey,
      ...(recovery ? { recovery } : {}),
      ...(options.since ? { since: options.since } : {}),
      ...(madeTls ? { tlsPin: madeTls.pin } : {}),
    });
    // Durable in the store: the keys and card follow. The old identity and signing keys are
    // overwritten; what they signed before stays verifiable with their public halves.
    replaceKeyFiles(paths(dir).keys, result.keys);
    if (madeTls) writeTlsFiles(paths(dir).keys, madeTls, phrase);
    writeFileSync(paths(dir).card, `${JSON.stringify(result.signed, null, 2)}\n`);
    await services.escalation.stop();
    return result;
  } finally {
    await store.close();
    session?.close();
    keys.close();
  }
}

function recoveryKey(file: string) {
  try {
    return readRecoveryKeyFile(file);
  } catch (e) {
    throw new DataDirError(
      `cannot use ${file} as the recovery key: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
