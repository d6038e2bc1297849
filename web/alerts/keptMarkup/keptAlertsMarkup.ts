import type { WebDeps } from '../../deps.ts';
import { page } from '../../shared/layout.ts';
import type { Account } from '../../shared/session.ts';
import { alertsPageOf, alertsSectionOf } from '../queries.ts';
import type { RecentRuns } from '../recentRuns.ts';
import * as views from '../views.ts';
import { MarkupTemplate } from './markupTemplate.ts';
import { RenderedPages } from './renderedPages.ts';

/** Rendered alerts markup kept for the users who look at it (about 46 KB for 20 alerts). */
export const RENDERED_PAGES_MAX_BYTES = 16 * 1024 * 1024;

/** What differs from one request to the next in the kept markup. */
type PerRequest = 'csrf' | 'commandId' | 'username';
const PER_REQUEST: readonly PerRequest[] = ['csrf', 'commandId', 'username'];
type Kind = 'page' | 'section';

/**
 * The alerts page (with an empty create form) and its self-refreshing section, as last rendered for each user: kept
 * while the version their session check read is the one it was rendered at (RenderedPages), so a request re-renders
 * only after a change. The CSRF token, the form's idempotency key and the username are filled in per request.
 */
export function keptAlertsMarkup(deps: Pick<WebDeps, 'pool' | 'schema' | 'renderedPagesMaxBytes'>, runs: RecentRuns) {
  const { pool, schema } = deps;
  const rendered = new RenderedPages<MarkupTemplate<PerRequest>>(
    deps.renderedPagesMaxBytes ?? RENDERED_PAGES_MAX_BYTES,
  );

  const render = async (userId: string, kind: Kind) => {
    if (kind === 'section') {
      const { alerts, latest } = await alertsSectionOf(pool, schema, userId, runs);
      return MarkupTemplate.render(PER_REQUEST, (slot) => views.alertsSection(slot.csrf, alerts, latest));
    }
    const shown = await alertsPageOf(pool, schema, userId, runs);
    return MarkupTemplate.render(PER_REQUEST, (slot) =>
      page(
        'Your alerts',
        { csrfToken: slot.csrf, user: { username: slot.username } },
        views.alertsPage(slot.csrf, { ...shown, form: { commandId: slot.commandId, values: {}, errors: {} } }),
      ),
    );
  };

  const template = async (account: Account, kind: Kind) => {
    // Read by the session check, before the queries below run: what they render is this version or newer, so it may
    // be kept under this version (a newer request reads a newer version and renders again).
    const version = account.pagesVersion;
    const key = `${kind}:${account.userId}`;
    const kept = rendered.get(key, version);
    if (kept) return kept;
    const fresh = await render(account.userId, kind);
    rendered.set(key, version, fresh);
    return fresh;
  };

  return {
    /** The whole alerts page, encoded. */
    page: async (account: Account, perRequest: { csrf: string; commandId: string }) =>
      (await template(account, 'page')).fill({ ...perRequest, username: account.username }),
    /** The alerts section alone, for htmx's refresh. */
    section: async (account: Account, perRequest: { csrf: string }) =>
      (await template(account, 'section')).fill({ ...perRequest, commandId: '', username: account.username }),
  };
}
