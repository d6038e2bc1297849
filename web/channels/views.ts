import { html, type Html } from '../../platform/html.ts';
import { csrfField, field, fieldError, formError, invalidAttributes, type FieldErrors } from '../shared/forms.ts';
import { notice } from '../shared/layout.ts';
import type { ChannelRecord } from './queries.ts';

/** A channel as the page lists it: its record with the URL opened. */
export type ShownChannel = ChannelRecord & { url: string };
export type ChannelFormState = { commandId: string; values: { url?: string; format?: string }; errors: FieldErrors };
/** What was just done, for the notice above the list; a new `json` channel's secret is shown this once. */
export type Done = { added?: { format: string; secret?: string }; text?: string };

const formats = [
  { value: 'slack', label: 'Slack (incoming webhook)' },
  { value: 'discord', label: 'Discord (webhook)' },
  { value: 'json', label: 'JSON to any HTTPS endpoint, signed (Standard Webhooks)' },
] as const;
const formatNames: Record<ChannelRecord['format'], string> = { slack: 'Slack', discord: 'Discord', json: 'JSON' };

const when = (at: Date) =>
  html`<time datetime="${at.toISOString()}">${at.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`;

/** Enough of a URL to tell channels apart, not its whole path (Slack's and Discord's paths are their credentials). */
export function urlHint(url: string): string {
  if (!URL.canParse(url)) return url;
  const { protocol, host, pathname } = new URL(url);
  return pathname.length > 12
    ? `${protocol}//${host}${pathname.slice(0, 8)}…${pathname.slice(-4)}`
    : `${protocol}//${host}${pathname}`;
}

const outcomes: Record<string, string> = {
  delivered: 'Delivered',
  retry: 'Failed, will retry',
  rejected: 'Refused, not retried',
  expired: 'Failed for 24 hours, given up',
};

function lastDelivery(last: ChannelRecord['last']): Html {
  if (!last) return html`<span class="muted">Nothing sent yet</span>`;
  const what = last.reference.startsWith('t') ? 'Test message' : 'Alert digest';
  return html`${what}: ${outcomes[last.outcome] ?? last.outcome} <span class="muted">(${last.detail})</span><br><span class="muted">${when(last.at)}</span>`;
}

function statusOf(channel: ShownChannel): Html {
  if (channel.status === 'active') return html`<span class="above">On</span>`;
  if (channel.pausedFor === 'failing')
    return html`<span class="paused">Paused: its deliveries kept failing.</span> Check the URL, then resume it.`;
  return html`<span class="paused">Paused</span>`;
}

const action = (csrf: string, channel: ShownChannel, verb: string, label: string, danger = false) =>
  html`<form method="post" action="/channels/${channel.channelId}/${verb}">${csrfField(csrf)}<button${danger ? html` class="danger"` : ''} type="submit" aria-label="${label} the ${formatNames[channel.format]} channel ${urlHint(channel.url)}">${label}</button></form>`;

function channelRow(csrf: string, channel: ShownChannel): Html {
  return html`<tr id="channel-${channel.channelId}">
  <td data-label="Channel"><strong>${formatNames[channel.format]}</strong><br><span class="channel-url">${urlHint(channel.url)}</span></td>
  <td data-label="Status">${statusOf(channel)}</td>
  <td data-label="Last delivery">${lastDelivery(channel.last)}</td>
  <td class="channel-actions">${action(csrf, channel, 'test', 'Send a test')}${
    channel.status === 'active' ? action(csrf, channel, 'pause', 'Pause') : action(csrf, channel, 'resume', 'Resume')
  }${action(csrf, channel, 'delete', 'Delete', true)}</td>
</tr>`;
}

export function channelForm(csrf: string, form: ChannelFormState): Html {
  const { values, errors } = form;
  const chosen = values.format ?? 'slack';
  return html`<form id="channel-form" class="stack" method="post" action="/channels" novalidate>
  ${csrfField(csrf)}<input type="hidden" name="commandId" value="${form.commandId}">${formError(errors.form)}
  ${field({ name: 'url', label: 'Webhook URL', value: values.url ?? '', error: errors.url, autocomplete: 'off' })}
  <fieldset${invalidAttributes('f-format', errors.format)}><legend>Format</legend>
  ${formats.map(
    (f) =>
      html`<label class="choice"><input type="radio" name="format" value="${f.value}"${f.value === chosen ? html` checked` : ''}> ${f.label}</label>`,
  )}
  ${fieldError('f-format', errors.format)}
  </fieldset>
  <button type="submit">Add channel</button>
</form>`;
}

function doneNotice(done: Done | undefined): Html | '' {
  if (!done) return '';
  if (done.added?.secret)
    return html`<div class="notice good" role="status"><p>Channel added. Its signing secret, shown this once: keep it where your endpoint can read it.</p>
<p><code class="secret">${done.added.secret}</code></p>
<p>Each message carries <code>webhook-id</code>, <code>webhook-timestamp</code> and <code>webhook-signature</code> headers (Standard Webhooks); verify them with this secret before trusting the body.</p></div>`;
  if (done.added) return notice('good', 'Channel added. It gets your next alert digest; send a test to try it now.');
  return done.text ? notice('good', done.text) : '';
}

export function channelsPage(
  csrf: string,
  channels: readonly ShownChannel[],
  form: ChannelFormState,
  done?: Done,
): Html {
  return html`<h1>Channels</h1>
<p class="lead">Besides the email, each alert digest goes to every channel that is on: a Slack or Discord webhook, or any HTTPS endpoint as signed JSON.</p>
${doneNotice(done)}
${
  channels.length === 0
    ? html`<p class="muted">No channels yet.</p>`
    : html`<div class="scroll"><table class="channels">
<thead><tr><th scope="col">Channel</th><th scope="col">Status</th><th scope="col">Last delivery</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${channels.map((c) => channelRow(csrf, c))}</tbody>
</table></div>`
}
<h2>Add a channel</h2>
${channelForm(csrf, form)}
<p class="muted">A delivery that fails is tried again for up to 24 hours; a channel whose deliveries keep failing is paused, and you get an email. See every attempt on the <a href="/activity">Activity</a> page.</p>`;
}

export function deleteConfirmPage(csrf: string, channel: ShownChannel): Html {
  return html`<h1>Delete channel</h1>
<p>Delete the ${formatNames[channel.format]} channel ${urlHint(channel.url)}? Nothing more is sent to it.</p>
<form method="post" action="/channels/${channel.channelId}/delete">${csrfField(csrf)}<input type="hidden" name="confirm" value="yes">
<button class="danger" type="submit">Delete channel</button> <a href="/channels">Keep it</a></form>`;
}
