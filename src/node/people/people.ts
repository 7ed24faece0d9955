/**
 * The people side of a node in one place: accounts, roster and audit trail over one store, with
 * one clock. The running node, `hotline init` and commands run on a stopped node's data folder
 * all build it here.
 */
import { hostname, userInfo } from 'node:os';
import { FactorStore } from '../../store/factors.ts';
import { PeopleStore } from '../../store/people.ts';
import type { Store } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import { type Config, parseConfig } from '../core/config.ts';
import type { Ledger } from '../record/ledger.ts';
import { Accounts, generatePassword, type Principal } from './accounts.ts';
import { SecondFactors } from './factors.ts';
import { Roster } from './roster.ts';
import { type Actor, AuditTrail } from './trail.ts';

export interface People {
  store: Store;
  people: PeopleStore;
  accounts: Accounts;
  factors: SecondFactors;
  roster: Roster;
  trail: AuditTrail;
  clock: () => Date;
  policy: Config['access'];
}

/** What the people side reads of the configuration: the access policy and the ladders. */
export type PeopleSettings = Pick<Config, 'access' | 'incidents' | 'approvals'>;

/** The desks escalation climbs: `incidents.ladder`, then those only `approvals.ladder` names. */
export function ladderDesks(settings: Pick<Config, 'incidents' | 'approvals'>): string[] {
  return [...new Set([...settings.incidents.ladder, ...(settings.approvals.ladder ?? [])])];
}

export function openPeople(
  store: Store,
  settings: PeopleSettings,
  ledger?: Ledger,
  clock: () => Date = () => new Date(),
  /** The node's factor key (src/node/core/factor-key.ts): without it, TOTP is refused. */
  factorKey?: Uint8Array,
  /** The node's alarms: a ladder desk left with nobody reachable raises one. */
  alarms?: Alarms,
): People {
  const policy = settings.access;
  const people = new PeopleStore(store);
  const trail = new AuditTrail(store, people, ledger, clock);
  const factors = new SecondFactors(
    new FactorStore(store),
    trail,
    policy,
    'Hotline',
    clock,
    factorKey,
  );
  return {
    store,
    people,
    trail,
    clock,
    policy,
    factors,
    accounts: new Accounts(people, trail, policy, factors, clock),
    roster: new Roster(store, people, trail, clock, ladderDesks(settings), alarms),
  };
}

/** The people settings' defaults, for callers without a configuration at hand. */
export const DEFAULT_PEOPLE_SETTINGS: PeopleSettings = parseConfig({ party: 'xx' });

/** The access policy's defaults, for callers without a configuration at hand. */
export const DEFAULT_ACCESS: Config['access'] = DEFAULT_PEOPLE_SETTINGS.access;

/** Who acts when a command runs on the data folder itself: the operating-system user. */
export function dataFolderActor(): Actor {
  return {
    actor: `os:${userInfo().username}`,
    role: 'admin',
    via: 'data-folder',
    source: hostname(),
  };
}

/** The data folder's owner, as a principal of the people routes run without a node. */
export function dataFolderPrincipal(): Principal {
  const { actor, source } = dataFolderActor();
  return {
    user: actor as string,
    role: 'admin',
    via: 'data-folder',
    scopes: ['read', 'write', 'admin'],
    source,
  };
}

/** The desk every new node starts with, so messages have an author desk from the first day. */
export const FIRST_DESK = { id: 'ops', name: 'Operations desk' };

/**
 * A new node's first admin, staffing the operations desk, and a bearer token for the CLI. Returns
 * the password (generated unless given) and the token: both are shown once.
 */
export async function createFirstAdmin(
  p: People,
  name = 'admin',
  password = generatePassword(),
): Promise<{ name: string; password: string; token: string }> {
  const by = dataFolderActor();
  await p.accounts.add(by, { name, role: 'admin', password });
  await p.roster.addDesk(by, FIRST_DESK.id, FIRST_DESK.name);
  await p.roster.putStaff(by, FIRST_DESK.id, name, [{ kind: 'console' }]);
  const { token } = await p.accounts.issueToken(by, name, {
    label: 'data folder (operator.token)',
  });
  return { name, password, token };
}
