import type { OwnEvent } from './ownEvents.ts';
import { WITHHELD, WITHHELD_FIELDS } from './ownEvents.ts';
import type { AccountRecord, AlertRecord, TriggerRecord } from './queries.ts';

/** What one person's data export holds, gathered from the read models and the log. */
export type ExportSources = {
  userId: string;
  account: AccountRecord;
  alerts: readonly AlertRecord[];
  triggers: readonly TriggerRecord[];
  events: readonly OwnEvent[];
  /** The person's webhook channels, deleted ones too, each URL opened (web/channels/queries.ts). */
  channels?: readonly ExportedChannel[];
  /** The log sequence the account starts at: rows older than it are of an earlier account of the username. */
  since: number;
};

export type ExportedChannel = {
  channelId: string;
  url: string;
  format: string;
  status: string;
  pausedFor: string | null;
  addedAt: Date;
  addedSeq: number;
  last: { reference: string; outcome: string; status: number | null; detail: string; at: Date } | null;
};

const iso = (at: Date | null) => (at ? at.toISOString() : null);

/** The export as one JSON document (pure: the clock and every source are passed in). */
export function exportDocument(sources: ExportSources, now: Date) {
  const alerts = sources.alerts.filter((a) => a.setSeq >= sources.since);
  const alertIds = new Set(alerts.map((a) => a.alertId));
  return {
    exportedAt: now.toISOString(),
    about:
      'Everything Currency Ratio Alerter holds about your account: the account, your alerts (deleted ones too), ' +
      'the times they triggered, your webhook channels, and your own events from the event log, each with its log sequence number and time. ' +
      `The values of ${WITHHELD_FIELDS.join(', ')} are "${WITHHELD}": they are secrets, not information about you.`,
    account: {
      userId: sources.userId,
      username: sources.account.username,
      email: sources.account.email,
      status: sources.account.status,
      registeredAt: iso(sources.account.registeredAt),
      alertEmailsPaused: sources.account.alertEmailsPaused,
    },
    alerts: alerts.map((a) => ({
      alertId: a.alertId,
      pair: `${a.base}/${a.quote}`,
      threshold: a.threshold,
      setAt: iso(a.setAt),
      deleted: a.deletedAt !== null,
      deletedAt: iso(a.deletedAt),
    })),
    triggers: sources.triggers
      .filter((t) => alertIds.has(t.alertId))
      .map((t) => ({
        alertId: t.alertId,
        runSeq: t.runSeq,
        previousRatio: t.previousRatio,
        currentRatio: t.currentRatio,
        direction: t.direction,
        triggeredAt: iso(t.triggeredAt),
      })),
    channels: (sources.channels ?? [])
      .filter((c) => c.addedSeq >= sources.since)
      .map((c) => ({
        channelId: c.channelId,
        url: c.url,
        format: c.format,
        status: c.status,
        pausedFor: c.pausedFor,
        addedAt: iso(c.addedAt),
        lastDelivery: c.last && { ...c.last, at: iso(c.last.at) },
      })),
    events: sources.events.map((e) => ({ seq: e.seq, time: e.time, type: e.type, data: e.data })),
  };
}

/** The download's file name: whose data, and the day it was taken (UTC). Usernames are [a-z0-9._-]: safe in a header. */
export function exportFileName(username: string, now: Date): string {
  return `cra-data-${username.replace(/[^a-z0-9._-]/g, '_')}-${now.toISOString().slice(0, 10)}.json`;
}
