import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The process's Prometheus metrics: one registry, the figures every service reports into. */
export function createMetrics() {
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: 'cra_' });
  return {
    register,
    httpDuration: new Histogram({
      name: 'cra_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [register],
    }),
    commands: new Counter({
      name: 'cra_commands_total',
      help: 'Commands handled, by name and outcome',
      labelNames: ['command', 'outcome'],
      registers: [register],
    }),
    eventsAppended: new Counter({
      name: 'cra_events_appended_total',
      help: 'Messages appended to the event stream by commands',
      registers: [register],
    }),
    projectorLag: new Gauge({
      name: 'cra_projector_lag_events',
      help: 'Stream sequence minus the projector checkpoint',
      registers: [register],
    }),
    projectorApplied: new Counter({
      name: 'cra_projector_applied_total',
      help: 'Messages applied to the read models',
      registers: [register],
    }),
    parkedEvents: new Counter({
      name: 'cra_parked_events_total',
      help: 'Events a consumer could not read and parked',
      labelNames: ['consumer'],
      registers: [register],
    }),
    emailsSent: new Counter({
      name: 'cra_emails_sent_total',
      help: 'Emails accepted by the mail server',
      labelNames: ['kind'],
      registers: [register],
    }),
    emailFailures: new Counter({
      name: 'cra_email_failures_total',
      help: 'Email sends that failed and will be retried',
      registers: [register],
    }),
    providerErrors: new Counter({
      name: 'cra_provider_errors_total',
      help: 'Rate provider fetches that failed',
      labelNames: ['provider', 'kind'],
      registers: [register],
    }),
    ratesFetched: new Counter({
      name: 'cra_rates_fetched_total',
      help: 'Rate fetches stored, by whether the publication was new',
      labelNames: ['provider', 'new'],
      registers: [register],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
