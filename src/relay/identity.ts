/**
 * The relay's TLS identity (docs/protocol.md § Relay API, Transport). At its first start the relay
 * makes a TLS key and a self-signed certificate with the generator `hotline init` uses
 * (src/crypto/tls.ts), in `<data>/keys/tls.key` (mode 0600) and `tls.crt`; every later start reads
 * them back under the node's rules for key files: one its group or others may read is refused
 * (`E_KEY_FILE_EXPOSED`), one sealed with the key passphrase needs it. Parties pin the relay by the
 * certificate's SPKI pin, which the relay prints at start.
 */
import { makeTlsIdentity, type TlsIdentity } from '../crypto/tls.ts';
import { readTlsFiles, writeTlsFiles } from '../node/core/keyfiles.ts';
import { keyPassphrase } from '../node/core/keyseal.ts';
import { relayKeys } from './paths.ts';

/** The relay's TLS key and certificate: read from its data folder, or made there the first time. */
export async function relayTls(
  data: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ tls: TlsIdentity; made: boolean }> {
  const dir = relayKeys(data);
  const passphrase = () => keyPassphrase(env);
  const existing = readTlsFiles(dir, passphrase, env);
  if (existing) return { tls: existing, made: false };
  const tls = await makeTlsIdentity('relay');
  writeTlsFiles(dir, tls, passphrase());
  return { tls, made: true };
}
