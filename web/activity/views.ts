import { html, type Html } from '../../platform/html.ts';
import type { ActivityLine } from './queries.ts';

export function activityPage(lines: readonly ActivityLine[]): Html {
  return html`<h1>Activity</h1>
<p class="muted">Everything your account did, from the event log (newest first). Sequence numbers are positions in the audit log.</p>
${
  lines.length === 0
    ? html`<p>Nothing yet.</p>`
    : html`<table class="activity stacked"><thead><tr><th scope="col">When (UTC)</th><th scope="col">What</th><th scope="col">Event</th><th scope="col">Log #</th></tr></thead><tbody>
${lines.map((r) => html`<tr><td class="when"><time datetime="${r.occurred_at.toISOString()}">${r.occurred_at.toISOString().replace('T', ' ').slice(0, 19)}</time></td><td class="what">${r.summary}</td><td class="muted event">${r.type}</td><td class="num seq">${r.seq}</td></tr>`)}
</tbody></table>`
}`;
}
