import { match } from 'ts-pattern';
import { alertRule, isAlertEvent, ruleSummary, type AlertEvent } from '../../events/index.ts';
import { formatRatio } from '../../events/ratio.ts';
import type { StoredEvents } from '../../platform/eventStore/index.ts';
import type { DetailTrigger } from './detailQueries.ts';

/** One line of an alert's own history: when, what kind of step (for its mark), and what happened in words. */
export type HistoryEntry = {
  at: Date;
  kind: 'set' | 'edited' | 'paused' | 'resumed' | 'rearmed' | 'deleted' | 'triggered' | 'emailed';
  text: string;
  /** Its place in the log, where it has one of its own: the alert's events do, a trigger is read from the read model. */
  seq?: number;
};

const pair = (e: { base: string; quote: string }) => `${e.base}/${e.quote}`;

/** What an event of the alert's own subject says, in the owner's words (a new alert event type must say something here). */
function lineOf(event: AlertEvent): Pick<HistoryEntry, 'kind' | 'text'> {
  return match(event)
    .with({ type: 'AlertSet' }, ({ data }) => ({
      kind: 'set' as const,
      text: `Set: ${pair(data)} ${ruleSummary(alertRule(data))}`,
    }))
    .with({ type: 'AlertEdited' }, ({ data }) => ({
      kind: 'edited' as const,
      text: `Changed to ${ruleSummary(alertRule(data))}`,
    }))
    .with({ type: 'AlertPaused' }, () => ({
      kind: 'paused' as const,
      text: 'Paused: it triggers no more until resumed',
    }))
    .with({ type: 'AlertResumed' }, () => ({ kind: 'resumed' as const, text: 'Resumed' }))
    .with({ type: 'AlertRearmed' }, () => ({ kind: 'rearmed' as const, text: 'Re-armed: it may trigger once more' }))
    .with({ type: 'AlertDeleted' }, () => ({ kind: 'deleted' as const, text: 'Deleted: it triggers no more' }))
    .exhaustive();
}

/**
 * The alert's history, oldest first: every event of its own subject in the log (set, deleted, and whatever else the
 * alert aggregate records), with each trigger and the digest email that carried it from the read models (they live
 * on the user's per-run digest subjects, one subject per trigger). Ratios are shown as the alerts page shows them.
 */
export function alertHistory(
  logged: readonly StoredEvents[],
  triggers: readonly DetailTrigger[],
  owner: { userId: string; threshold: string | undefined },
): HistoryEntry[] {
  const own = logged.flatMap((message) =>
    message.events
      .filter(isAlertEvent)
      // The subject is the alert's, whose id was made for its owner (web/alerts/routes.ts): never anyone else's.
      .filter((e) => e.data.userId === owner.userId)
      .map((e): HistoryEntry => ({ at: new Date(message.meta.occurredAt), seq: message.seq, ...lineOf(e) })),
  );
  const shown = (ratio: string) => formatRatio(ratio, 6, owner.threshold);
  const ofRuns = (t: DetailTrigger) => (t.asOf ? ` (rates of ${t.asOf})` : '');
  const fromRuns = triggers.flatMap((t): HistoryEntry[] => [
    {
      at: t.triggeredAt,
      kind: 'triggered',
      text: `Triggered${ofRuns(t)}: ${shown(t.previousRatio)} → ${shown(t.currentRatio)}, ${owner.threshold === undefined ? 'moved' : 'crossed'} ${t.direction === 'up' ? 'upward ↑' : 'downward ↓'}`,
    },
    ...(t.emailedAt
      ? [{ at: t.emailedAt, kind: 'emailed' as const, text: `Emailed to you in the digest${ofRuns(t)}` }]
      : []),
  ]);
  // Stable: at the same instant, the alert's own events keep their log order and a trigger stays before its email.
  return [...own, ...fromRuns].sort((a, b) => a.at.getTime() - b.at.getTime());
}
