/**
 * The watchdog (a dead-man's switch): while the node is healthy it GETs a configured URL every
 * `watchdog.intervalMs` — a monitor such as healthchecks.io, Uptime Kuma's push monitor or
 * Prometheus' blackbox side — which pages someone when the pings stop. Healthy means the node's
 * store answers a read; a node that is dead, hung or has lost its database stops pinging, which is
 * the whole point. Pings carry no secrets of ours; the URL is the monitor's, shown without its path.
 */
import type { Logger } from 'pino';
import { urlWithoutSecrets } from '../../protocol/secret-url.ts';
import type { WatchdogStatus } from '../../protocol/views.ts';
import type { Store } from '../../store/store.ts';
import type { Config } from '../core/config.ts';
import type { Metrics } from '../core/metrics.ts';

export interface WatchdogParts {
  config: Config;
  store: Store;
  metrics: Metrics;
  logger: Logger;
}

export class Watchdog {
  readonly #parts: WatchdogParts;
  readonly #settings: NonNullable<Config['watchdog']>;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  readonly #status: WatchdogStatus;

  constructor(parts: WatchdogParts, settings: NonNullable<Config['watchdog']>) {
    this.#parts = parts;
    this.#settings = settings;
    // The monitor's ping URL is its secret (anyone holding it can ping for us).
    this.#status = {
      url: urlWithoutSecrets(settings.url),
      lastPing: null,
      lastError: null,
      pings: 0,
      failures: 0,
    };
  }

  start(): void {
    void this.ping();
    this.#timer = setInterval(() => void this.ping(), this.#settings.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  status(): WatchdogStatus {
    return { ...this.#status };
  }

  /** One round: check our own health, then ping. Never throws. */
  async ping(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    const { config, store, metrics, logger } = this.#parts;
    try {
      await store.outboxStats(config.party);
      const response = await fetch(this.#settings.url, {
        signal: AbortSignal.timeout(this.#settings.timeoutMs),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.#status.pings++;
      this.#status.lastPing = new Date().toISOString();
      this.#status.lastError = null;
      metrics.watchdogPings.inc({ result: 'ok' });
    } catch (e) {
      this.#status.failures++;
      this.#status.lastError = (e as Error).message;
      metrics.watchdogPings.inc({ result: 'failed' });
      logger.warn({ reason: (e as Error).message }, 'watchdog ping failed');
    } finally {
      this.#busy = false;
    }
  }
}
