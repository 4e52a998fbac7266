import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsRegistry } from '@platform/observability';

/** TLS handshakes by outcome only (never by SNI name or tenant: unbounded labels). */
@Injectable()
export class TlsMetrics {
  /** served | unknown_name (no certificate may answer) | error (registry or key trouble). */
  readonly sniLookups: Counter<'result'>;
  /** Handshakes that failed, whatever the reason (no SNI, unknown name, client gave up). */
  readonly handshakeFailures: Counter;

  constructor(metrics: MetricsRegistry) {
    this.sniLookups = new Counter({
      name: 'data_plane_tls_sni_lookups_total',
      help: 'SNI names looked up during TLS handshakes, by result',
      labelNames: ['result'],
      registers: [metrics.registry],
    });
    this.handshakeFailures = new Counter({
      name: 'data_plane_tls_handshake_failures_total',
      help: 'TLS handshakes that did not complete',
      registers: [metrics.registry],
    });
  }
}
