import type { ChannelEvent, DeliveryEvent, EventOf } from '../../../events/index.ts';
import { activityLine } from '../reference/activityLine.ts';
import { leavesEmailRow, ruleColumns, type RuleColumns } from '../reference/eventStatements.ts';
import { refusedAccountAddress } from '../reference/refusedAddress.ts';
import { unhandled } from '../unhandled.ts';
import { parkedRow, type ParkedRow, type StoredMessage } from '../storedMessage.ts';

type UserStatus = 'pending' | 'registered' | 'expired';
export type UserRow = {
  userId: string;
  username: string;
  email: string;
  emailLookup: string | null;
  status: UserStatus;
  pendingExpiresAt: string | null;
  registeredAt: string | null;
  alertEmailsPaused: boolean;
  /** The account's address the mail server refused for good, and when (reference/eventStatements.ts refusedAccountAddress). */
  refused: Refusal | null;
  updatedSeq: number;
};
export type Refusal = { email: string; detail: string; at: string };
/** What a batch does to a users row that already exists: set the fields named here, leave the others. */
export type UserChange = Partial<
  Pick<
    UserRow,
    'email' | 'emailLookup' | 'status' | 'pendingExpiresAt' | 'registeredAt' | 'alertEmailsPaused' | 'refused'
  >
> & { userId: string; updatedSeq: number };
export type SessionRow = {
  sessionId: string;
  userId: string;
  openedAt: string;
  expiresAt: string;
  closedAt: string | null;
};
export type SessionClose = { sessionId: string; closedAt: string };
export type AlertRow = {
  alertId: string;
  userId: string;
  base: string;
  quote: string;
  rule: RuleColumns;
  setSeq: number;
  setAt: string;
  deletedSeq: number | null;
  deletedAt: string | null;
  activeSeq: number;
  pausedSeq: number | null;
  armedSeq: number;
};
/** What a batch does to an alerts row that already exists: set the fields named here (the last value of each), leave the others. */
export type AlertChange = Partial<Pick<AlertRow, 'rule' | 'activeSeq' | 'pausedSeq' | 'armedSeq'>> & {
  alertId: string;
};
export type AlertDeletion = { alertId: string; deletedSeq: number; deletedAt: string };
export type TriggerRow = {
  alertId: string;
  runSeq: number;
  userId: string;
  previousRatio: string;
  currentRatio: string;
  direction: string;
  triggeredAt: string;
};
export type EmailRow = {
  messageId: string;
  userId: string;
  kind: string;
  reference: string;
  sentAt: string;
  seq: number;
};
export type ActivityRow = {
  seq: number;
  position: number;
  userId: string;
  type: string;
  summary: string;
  occurredAt: string;
};
export type RateRun = { event: EventOf<'RatesFetched'>; seq: number };
type ChannelStatus = 'active' | 'paused' | 'deleted';
/** What a channel's last delivery attempt left on its row. */
export type LastAttempt = {
  reference: string;
  outcome: string;
  status: number | null;
  detail: string;
  attemptAt: string;
};
export type ChannelRow = {
  channelId: string;
  userId: string;
  url: string;
  format: string;
  secret: string;
  status: ChannelStatus;
  pausedFor: string | null;
  addedSeq: number;
  addedAt: string;
  updatedSeq: number;
  last: LastAttempt | null;
};
/**
 * The net change of a batch to a channel row that existed before it: its status as the batch's last status event left
 * it (one that is still to be applied only where the row is not deleted, and a delete ends them), and its last attempt.
 */
export type ChannelChange = {
  channelId: string;
  status?: { status: ChannelStatus; pausedFor: string | null; updatedSeq: number };
  last?: LastAttempt;
};

/**
 * A batch of events as set-based changes per table, equal to applying them one at a time in log order (up to an
 * erasure: see `then`).
 * Mutable tables get two parts, run in this order: the net change to rows that existed before the batch
 * (an update that finds no row does nothing, as one event's update would), then the rows the batch
 * creates, already in their state at its end (an insert that meets an existing row does nothing).
 */
export type TableChanges = {
  userChanges: UserChange[];
  newUsers: UserRow[];
  /** The first close of each session in the batch: it ends a session that was open before it. */
  sessionCloses: SessionClose[];
  /** In log order; a repeated session id is left to the insert's ON CONFLICT DO NOTHING (first one wins). */
  newSessions: SessionRow[];
  alertDeletions: AlertDeletion[];
  /** Edits, pauses, resumptions and re-arms of alerts that existed before the batch, net of the batch. */
  alertChanges: AlertChange[];
  newAlerts: AlertRow[];
  rateRuns: RateRun[];
  channelChanges: ChannelChange[];
  newChannels: ChannelRow[];
  triggers: TriggerRow[];
  emails: EmailRow[];
  activity: ActivityRow[];
  parked: ParkedRow[];
  /**
   * Timestamps an event carried that a later event in the batch overwrote: one at a time, Postgres would
   * still have read each (and refused a bad one), so the batch has it check them.
   */
  overwrittenTimestamps: string[];
  /**
   * An erasure in the batch (AccountErased) ends these changes: that user's rows are deleted after them, and `changes`,
   * the rest of the batch, apply after the deletion (absent when the batch erases nobody after these changes).
   */
  then?: { erasedUserId: string; changes: TableChanges };
};

/** Closes (or deletions) per row key: the first close of a row open before the batch, and each new row's first close after it. */
class Closings<Row, Close> {
  readonly firstCloses = new Map<string, Close>();
  private readonly open = new Map<string, Row[]>();

  constructor(private readonly closeRow: (row: Row, close: Close) => void) {}

  created(key: string, row: Row): void {
    const rows = this.open.get(key);
    if (rows) rows.push(row);
    else this.open.set(key, [row]);
  }

  closed(key: string, close: Close): void {
    if (!this.firstCloses.has(key)) this.firstCloses.set(key, close);
    const rows = this.open.get(key);
    if (!rows) return;
    for (const row of rows) this.closeRow(row, close);
    this.open.delete(key);
  }
}

/**
 * The fold of one segment of a batch: the events between two erasures (or the batch's ends). An erasure is not a
 * set-based change: it deletes the rows of one user as the segment before it left them, and the segment after it
 * starts on what the erasure left (see setStatements).
 */
class Segment {
  readonly out: TableChanges = {
    userChanges: [],
    newUsers: [],
    sessionCloses: [],
    newSessions: [],
    alertDeletions: [],
    alertChanges: [],
    newAlerts: [],
    rateRuns: [],
    channelChanges: [],
    newChannels: [],
    triggers: [],
    emails: [],
    activity: [],
    parked: [],
    overwrittenTimestamps: [],
  };
  readonly userTimestamps: string[] = [];
  private readonly users = new Map<string, { change: UserChange; created: UserRow | undefined }>();
  readonly sessions = new Closings<SessionRow, SessionClose>((row, close) => (row.closedAt = close.closedAt));
  readonly alerts = new Closings<AlertRow, AlertDeletion>((row, deletion) => {
    row.deletedSeq = deletion.deletedSeq;
    row.deletedAt = deletion.deletedAt;
  });

  /** Per alert: its net change to a row from before the batch, and the row the batch created, if it did so yet. */
  private readonly alertEntries = new Map<string, { change: AlertChange; created: AlertRow | undefined }>();

  alertEntry(alertId: string) {
    let entry = this.alertEntries.get(alertId);
    if (!entry) this.alertEntries.set(alertId, (entry = { change: { alertId }, created: undefined }));
    return entry;
  }

  /** An update of an alerts row: to the row from before the batch (if any), and to the batch's own row once it exists. */
  changeAlert(alertId: string, fields: Omit<AlertChange, 'alertId'>) {
    const entry = this.alertEntry(alertId);
    Object.assign(entry.change, fields);
    if (entry.created) Object.assign(entry.created, fields);
  }

  private readonly channels = new Map<string, { change: ChannelChange; created: ChannelRow | undefined }>();

  channelEntry(channelId: string) {
    let entry = this.channels.get(channelId);
    if (!entry) this.channels.set(channelId, (entry = { change: { channelId }, created: undefined }));
    return entry;
  }

  /** A channel event or a delivery's attempt, as channelStatements applies it, on the row before the batch and on one it made. */
  changeChannel(event: ChannelEvent | DeliveryEvent, seq: number, at: string) {
    const entry = this.channelEntry(event.data.channelId);
    if (event.type === 'ChannelAdded') {
      const { data } = event;
      entry.created ??= {
        channelId: data.channelId,
        userId: data.userId,
        url: data.url,
        format: data.format,
        secret: data.secret,
        status: 'active',
        pausedFor: null,
        addedSeq: seq,
        addedAt: at,
        updatedSeq: seq,
        last: null,
      };
      return;
    }
    if (event.type === 'WebhookAttempted') {
      const { data } = event;
      const last = {
        reference: data.reference,
        outcome: data.outcome,
        status: data.status ?? null,
        detail: data.detail,
        attemptAt: at,
      };
      entry.change.last = last;
      if (entry.created) entry.created.last = last;
      return;
    }
    const status: ChannelStatus | undefined =
      event.type === 'ChannelPaused'
        ? 'paused'
        : event.type === 'ChannelResumed'
          ? 'active'
          : event.type === 'ChannelDeleted'
            ? 'deleted'
            : undefined;
    if (!status) return;
    const change = { status, pausedFor: event.type === 'ChannelPaused' ? event.data.reason : null, updatedSeq: seq };
    if (entry.change.status?.status !== 'deleted') entry.change.status = change;
    if (entry.created && entry.created.status !== 'deleted') Object.assign(entry.created, change);
  }

  userEntry(userId: string, seq: number) {
    let entry = this.users.get(userId);
    if (!entry) this.users.set(userId, (entry = { change: { userId, updatedSeq: seq }, created: undefined }));
    return entry;
  }

  changeUser(userId: string, fields: Omit<UserChange, 'userId'>) {
    const entry = this.userEntry(userId, fields.updatedSeq);
    Object.assign(entry.change, fields);
    if (entry.created) Object.assign(entry.created, fields);
  }

  // Session ids are uuids: Postgres equates them whatever the case of their hex digits.
  closeSession(sessionId: string, closedAt: string) {
    this.sessions.closed(sessionId.toLowerCase(), { sessionId, closedAt });
  }

  finish(): TableChanges {
    const { out } = this;
    const bound = new Set<string | null | undefined>();
    for (const { change, created } of this.users.values()) {
      out.userChanges.push(change);
      bound.add(change.pendingExpiresAt);
      if (created) {
        out.newUsers.push(created);
        bound.add(created.pendingExpiresAt);
      }
    }
    out.overwrittenTimestamps = [...new Set(this.userTimestamps.filter((ts) => !bound.has(ts)))];
    for (const { change, created } of this.channels.values()) {
      if (change.status || change.last) out.channelChanges.push(change);
      if (created) out.newChannels.push(created);
    }
    out.sessionCloses = [...this.sessions.firstCloses.values()];
    out.alertDeletions = [...this.alerts.firstCloses.values()];
    for (const { change } of this.alertEntries.values())
      if (Object.keys(change).length > 1) out.alertChanges.push(change);
    return out;
  }
}

export function tableChanges(messages: readonly StoredMessage[]): TableChanges {
  const segments: Segment[] = [new Segment()];
  const erased: string[] = [];
  let current = segments[0]!;

  for (const message of messages) {
    if (message.unreadable !== undefined) {
      current.out.parked.push(parkedRow(message.raw, message.unreadable));
      continue;
    }
    const { seq } = message.raw;
    const at = message.occurredAt;
    for (let position = 0; position < message.events.length; position++) {
      const event = message.events[position]!;
      const { out } = current;
      // Every event of a rebuild passes here: a switch (exhaustive through `unhandled`), not a ts-pattern match.
      switch (event.type) {
        case 'RegistrationRequested': {
          const { data } = event;
          const entry = current.userEntry(data.userId, seq);
          entry.created ??= {
            userId: data.userId,
            username: data.username,
            email: data.email,
            emailLookup: data.emailLookup ?? null,
            status: 'pending',
            pendingExpiresAt: data.expiresAt,
            registeredAt: null,
            alertEmailsPaused: false,
            refused: null,
            updatedSeq: seq,
          };
          current.changeUser(data.userId, {
            email: data.email,
            ...(data.emailLookup ? { emailLookup: data.emailLookup } : {}),
            status: 'pending',
            pendingExpiresAt: data.expiresAt,
            registeredAt: null,
            updatedSeq: seq,
          });
          current.userTimestamps.push(data.expiresAt);
          break;
        }
        case 'VerificationReissued':
          current.changeUser(event.data.userId, { pendingExpiresAt: event.data.expiresAt, updatedSeq: seq });
          current.userTimestamps.push(event.data.expiresAt);
          break;
        case 'UserRegistered':
          current.changeUser(event.data.userId, {
            status: 'registered',
            registeredAt: at,
            pendingExpiresAt: null,
            updatedSeq: seq,
          });
          break;
        case 'RegistrationExpired':
          current.changeUser(event.data.userId, { status: 'expired', updatedSeq: seq });
          break;
        case 'AlertEmailsPaused':
        case 'AlertEmailsResumed':
          current.changeUser(event.data.userId, {
            alertEmailsPaused: event.type === 'AlertEmailsPaused',
            // Resuming is also how an account tries a refused address again.
            ...(event.type === 'AlertEmailsResumed' ? { refused: null } : {}),
            updatedSeq: seq,
          });
          break;
        case 'EmailUndeliverable': {
          const refused = refusedAccountAddress(event.data);
          if (refused) current.changeUser(event.data.userId, { refused: { ...refused, at }, updatedSeq: seq });
          break;
        }
        case 'UserLoggedIn': {
          const { data } = event;
          const row: SessionRow = {
            sessionId: data.sessionId,
            userId: data.userId,
            openedAt: at,
            expiresAt: data.expiresAt,
            closedAt: null,
          };
          out.newSessions.push(row);
          current.sessions.created(data.sessionId.toLowerCase(), row);
          break;
        }
        case 'UserLoggedOut':
          current.closeSession(event.data.sessionId, at);
          break;
        case 'PasswordChanged':
          for (const id of event.data.endedSessionIds) current.closeSession(id, at);
          break;
        case 'SessionsEnded':
          for (const id of event.data.sessionIds) current.closeSession(id, at);
          break;
        case 'EmailChanged':
          current.changeUser(event.data.userId, {
            email: event.data.email,
            emailLookup: event.data.emailLookup,
            updatedSeq: seq,
          });
          break;
        case 'PasswordResetRequested':
        case 'EmailChangeRequested':
        case 'EmailClaimed':
        case 'EmailDeferred':
          break;
        case 'AccountErased':
          // The segment ends here; the erasure runs between it and the next one.
          erased.push(event.data.userId);
          segments.push((current = new Segment()));
          break;
        case 'AlertSet': {
          const { data } = event;
          const row: AlertRow = {
            alertId: data.alertId,
            userId: data.userId,
            base: data.base,
            quote: data.quote,
            rule: ruleColumns(data),
            setSeq: seq,
            setAt: at,
            deletedSeq: null,
            deletedAt: null,
            activeSeq: seq,
            pausedSeq: null,
            armedSeq: seq,
          };
          out.newAlerts.push(row);
          current.alerts.created(data.alertId, row);
          // A repeated AlertSet inserts nothing (ON CONFLICT DO NOTHING): the first row of the batch is the one changed.
          current.alertEntry(data.alertId).created ??= row;
          break;
        }
        case 'AlertEdited':
          current.changeAlert(event.data.alertId, { rule: ruleColumns(event.data), activeSeq: seq, armedSeq: seq });
          break;
        case 'AlertPaused':
          current.changeAlert(event.data.alertId, { pausedSeq: seq });
          break;
        case 'AlertResumed':
          current.changeAlert(event.data.alertId, { pausedSeq: null, activeSeq: seq });
          break;
        case 'AlertRearmed':
          current.changeAlert(event.data.alertId, { armedSeq: seq });
          break;
        case 'AlertDeleted':
          current.alerts.closed(event.data.alertId, { alertId: event.data.alertId, deletedSeq: seq, deletedAt: at });
          break;
        case 'RatesFetched':
          out.rateRuns.push({ event, seq });
          break;
        case 'ChannelAdded':
        case 'ChannelTestRequested':
        case 'ChannelPaused':
        case 'ChannelResumed':
        case 'ChannelDeleted':
        case 'WebhookClaimed':
        case 'WebhookAttempted':
          current.changeChannel(event, seq, at);
          break;
        case 'AlertTriggered': {
          const { data } = event;
          out.triggers.push({
            alertId: data.alertId,
            runSeq: data.runSeq,
            userId: data.userId,
            previousRatio: data.previousRatio,
            currentRatio: data.currentRatio,
            direction: data.direction,
            triggeredAt: at,
          });
          break;
        }
        case 'EmailSent': {
          const { data } = event;
          if (!leavesEmailRow(data.kind)) break;
          out.emails.push({
            messageId: data.messageId,
            userId: data.userId,
            kind: data.kind,
            reference: data.reference,
            sentAt: at,
            seq,
          });
          break;
        }
        default:
          unhandled(event);
      }
      const line = activityLine(event);
      if (line)
        current.out.activity.push({
          seq,
          position,
          userId: line.userId,
          type: event.type,
          summary: line.summary,
          occurredAt: at,
        });
    }
  }

  // Linked from the last segment back, so a batch of many erasures builds no deep recursion.
  let changes = segments.at(-1)!.finish();
  for (let i = segments.length - 2; i >= 0; i--)
    changes = { ...segments[i]!.finish(), then: { erasedUserId: erased[i]!, changes } };
  return changes;
}
