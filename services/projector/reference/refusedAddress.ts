import type { EventData } from '../../../events/index.ts';

/** The kinds of email that go to the account's own address, where a refusal for good is the account's to know of. */
const TO_ACCOUNT_ADDRESS = new Set<EventData<'EmailSent'>['kind']>([
  'verification',
  'password-reset',
  'alert-digest',
  'channel-paused',
]);

/**
 * The address a permanent refusal (EmailUndeliverable) records on its account, or undefined when it records none: a
 * retry bound reached (the address may work tomorrow), or an email to another address than the account's (the new
 * address before it is confirmed, the previous one after a change). Alert emails are paused while the recorded
 * address is the account's address (users.refused_email = users.email): changing the address ends the pause.
 */
export function refusedAccountAddress(data: EventData<'EmailUndeliverable'>) {
  if (!data.permanent || !TO_ACCOUNT_ADDRESS.has(data.kind)) return undefined;
  return { email: data.email, detail: data.detail };
}
