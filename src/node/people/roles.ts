/** Roles and token scopes: plain values, so the CLI can offer them without loading the accounts. */
import type { Role } from '../../store/schema.ts';

export const ROLES = ['operator', 'officer', 'admin'] as const satisfies readonly Role[];

/**
 * What a bearer token may be used for, within its user's role: `read` (GET), `write` (messages,
 * handovers, roster, alarms), `admin` (accounts, tokens, desks, the audit trail).
 */
export const SCOPES = ['read', 'write', 'admin'] as const;
