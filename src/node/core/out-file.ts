/**
 * Files a command writes for its user or its node: key files, tokens, exports, documents.
 *
 * Each is written beside its name first (`<file>.partial`, created exclusively with its mode from
 * the start, so neither a file left there nor a link planted there is written through or keeps
 * another mode) and renamed into place once complete, so a failed write leaves nothing behind.
 * Without `replace`, the name itself is claimed first by an exclusive create, so a file there, a
 * link there, or one made meanwhile is never overwritten: that refusal is a Node `EEXIST` error.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

export interface OutFileOptions {
  /** Replace a file already there (`--force`); without, an existing name is refused. */
  replace?: boolean;
  /** The mode the file has from its creation on: 0600 (its owner alone) unless said. */
  mode?: number;
}

/** A file being written: `write` appends, `commit` puts it in place, `abandon` leaves nothing. */
interface OutFile {
  write(text: string | Uint8Array): void;
  commit(): void;
  abandon(): void;
}

function openOutFile(file: string, { replace = false, mode = 0o600 }: OutFileOptions): OutFile {
  if (!replace) closeSync(openSync(file, 'wx', mode));
  const partial = `${file}.partial`;
  let fd: number | undefined;
  try {
    rmSync(partial, { force: true });
    fd = openSync(partial, 'wx', mode);
  } catch (e) {
    if (!replace) rmSync(file, { force: true });
    throw e;
  }
  const opened = fd;
  let open = true;
  const close = () => {
    if (open) closeSync(opened);
    open = false;
  };
  return {
    write: (text) => {
      const bytes = typeof text === 'string' ? Buffer.from(text) : text;
      for (let at = 0; at < bytes.length; ) at += writeSync(opened, bytes, at);
    },
    commit: () => {
      fsyncSync(opened);
      close();
      renameSync(partial, file);
    },
    abandon: () => {
      close();
      rmSync(partial, { force: true });
      if (!replace) rmSync(file, { force: true });
    },
  };
}

/**
 * Writes `file` with what `produce` writes, once it resolves; claimed before `produce` runs, so
 * nothing is made (a token issued, a ledger read) for a name that cannot be written.
 */
export async function writeOutFile<T>(
  file: string,
  options: OutFileOptions,
  produce: (write: (text: string | Uint8Array) => void) => Promise<T> | T,
): Promise<T> {
  const out = openOutFile(file, options);
  try {
    const result = await produce(out.write);
    out.commit();
    return result;
  } catch (e) {
    out.abandon();
    throw e;
  }
}

/** `writeOutFile` for text already made, where the caller cannot wait. */
export function writeOutFileSync(
  file: string,
  text: string | Uint8Array,
  options: OutFileOptions = {},
): void {
  const out = openOutFile(file, options);
  try {
    out.write(text);
    out.commit();
  } catch (e) {
    out.abandon();
    throw e;
  }
}
