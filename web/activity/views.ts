import { html, type Html } from '../../platform/html.ts';
import type { ActivityLine } from './queries.ts';

export function activityPage(lines: readonly ActivityLine[]): Html {
  return html`<h1>Activity</h1>
<p class="muted">Everything your account did, from the event log (newest first). Sequence numbers are positions in the audit log.</p>
${
  lines.length === 0
    ? html`<p>Nothing yet.</p>`
    : html`<table><thead><tr><th>When (UTC)</th><th>What</th><th>Event</th><th>Log #</th></tr></thead><tbody>
${lines.map((r) => html`<tr><td>${r.occurred_at.toISOString().replace('T', ' ').slice(0, 19)}</td><td>${r.summary}</td><td class="muted">${r.type}</td><td class="num">${r.seq}</td></tr>`)}
</tbody></table>`
}`;
}
