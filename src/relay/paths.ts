/** A relay's own files inside its data folder (`hotline relay --data`). */
import { join } from 'node:path';

/** The relay's key folder inside its data folder. */
export const relayKeys = (data: string) => join(data, 'keys');

/** The relay's mailboxes (SQLite) inside its data folder: its presence marks a relay's folder. */
export const RELAY_DB = 'relay.db';
