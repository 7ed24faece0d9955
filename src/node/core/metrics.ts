/**
 * Prometheus metrics of one node, in its own registry (several nodes may share a process).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly outboxDepth: Gauge;
  readonly oldestUnreceiptedSeconds: Gauge;
  readonly sent: Counter;
  readonly received: Counter;
  readonly receipts: Counter;
  readonly rejections: Counter;
  readonly deliveryFailures: Counter;
  readonly heartbeatRtt: Histogram;
  readonly pathUp: Gauge;
  readonly failovers: Counter;
  readonly relayDeposits: Counter;
  readonly batchesProcessing: Counter;
  readonly relayCollected: Counter;
  readonly relayDropped: Counter;
  readonly watchdogPings: Counter;
  readonly federationRequests: Counter;
  readonly fenced: Counter;
  readonly leading: Gauge;
  readonly tlsRefused: Counter;

  constructor(party: string, withDefaults = true) {
    this.registry.setDefaultLabels({ party });
    if (withDefaults)
      collectDefaultMetrics({ register: this.registry, prefix: 'hotline_process_' });
    const registers = [this.registry];
    this.outboxDepth = new Gauge({
      name: 'hotline_outbox_depth',
      help: 'Envelopes awaiting a verified receipt, per peer',
      labelNames: ['peer'],
      registers,
    });
    this.oldestUnreceiptedSeconds = new Gauge({
      name: 'hotline_outbox_oldest_unreceipted_seconds',
      help: 'Age of the oldest envelope without a verified receipt, per peer',
      labelNames: ['peer'],
      registers,
    });
    this.sent = new Counter({
      name: 'hotline_messages_released_total',
      help: 'Messages released to the outbox, per peer and precedence',
      labelNames: ['peer', 'precedence'],
      registers,
    });
    this.tlsRefused = new Counter({
      name: 'hotline_federation_refused_connections_total',
      help: 'Federation connections closed before any request: no pinned certificate, plain HTTP when every peer pins TLS, or a failed handshake',
      labelNames: ['reason'],
      registers,
    });
    this.received = new Counter({
      name: 'hotline_messages_received_total',
      help: 'Envelopes accepted and stored, per peer',
      labelNames: ['peer'],
      registers,
    });
    this.receipts = new Counter({
      name: 'hotline_receipts_total',
      help: 'Receipts: out = signed for a peer, in = verified from a peer',
      labelNames: ['peer', 'dir'],
      registers,
    });
    this.rejections = new Counter({
      name: 'hotline_rejections_total',
      help: 'Envelopes and statements rejected, by error code',
      labelNames: ['peer', 'code'],
      registers,
    });
    this.deliveryFailures = new Counter({
      name: 'hotline_delivery_failures_total',
      help: 'Failed batch sends (network, timeout, bad answer), per peer',
      labelNames: ['peer'],
      registers,
    });
    this.heartbeatRtt = new Histogram({
      name: 'hotline_heartbeat_rtt_seconds',
      help: 'Heartbeat round-trip time, per peer and path',
      labelNames: ['peer', 'path'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.pathUp = new Gauge({
      name: 'hotline_path_state',
      help: 'Path state per peer and path: 2 up, 1 degraded, 0 down',
      labelNames: ['peer', 'path'],
      registers,
    });
    this.failovers = new Counter({
      name: 'hotline_path_failovers_total',
      help: 'Batches sent on a further path because the one before failed or did not answer in time',
      labelNames: ['peer', 'from', 'to'],
      registers,
    });
    this.relayDeposits = new Counter({
      name: 'hotline_relay_deposits_total',
      help: 'Batches deposited at a relay for a peer, per relay path',
      labelNames: ['peer', 'path'],
      registers,
    });
    this.batchesProcessing = new Counter({
      name: 'hotline_batches_processing_total',
      help: 'Batches a peer said it was still processing (202): their answer was waited for, not sent again',
      labelNames: ['peer'],
      registers,
    });
    this.relayCollected = new Counter({
      name: 'hotline_relay_collected_total',
      help: 'Items collected from relays: kind envelope (for us) or answer (receipts for us)',
      labelNames: ['kind'],
      registers,
    });
    this.relayDropped = new Counter({
      name: 'hotline_relay_dropped_total',
      help: 'Items collected from relays and dropped unrecorded: reason unsigned (a receipt not signed by the party it claims), unknown (from no pinned party) or malformed',
      labelNames: ['reason'],
      registers,
    });
    this.watchdogPings = new Counter({
      name: 'hotline_watchdog_pings_total',
      help: "Pings of the watchdog URL (the dead-man's switch), by result ok or failed",
      labelNames: ['result'],
      registers,
    });
    this.federationRequests = new Counter({
      name: 'hotline_federation_requests_total',
      help: 'Requests the federation listener answered, by route (unknown for no route) and method',
      labelNames: ['route', 'method'],
      registers,
    });
    this.fenced = new Counter({
      name: 'hotline_fenced_writes_total',
      help: 'Writes the database refused because their fencing token was stale (another replica took the lease): what is commit (a unit of work) or renewal',
      labelNames: ['what'],
      registers,
    });
    this.leading = new Gauge({
      name: 'hotline_replica_leading',
      help: '1 while this replica holds the lease (runs delivery and the timers), else 0',
      registers,
    });
  }

  /** Counts the ledger's units of work, as `commits` reads them when the metrics are scraped. */
  countCommits(commits: () => number): void {
    new Counter({
      name: 'hotline_ledger_commits_total',
      help: 'Units of work committed through the ledger: each one durable store transaction (one fsync)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(commits());
      },
    });
  }
}
