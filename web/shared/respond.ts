import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { Html } from '../../platform/html.ts';
import { page } from './layout.ts';

export const isHtmx = (request: FastifyRequest) => request.headers['hx-request'] === 'true';

/** Send markup made for this user: never stored by a cache. */
export function sendMarkup(reply: FastifyReply, markup: Html | Buffer, status = 200) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('Cache-Control', 'no-store')
    .send(markup instanceof Html ? markup.value : markup);
}

/**
 * A refused form's first field marked invalid takes the focus (htmx focuses an [autofocus] element it swaps in, a
 * browser one it loads), so a keyboard or screen reader user lands on what to fix. Values are escaped in markup, so
 * only a field's own attribute can match.
 */
export const focusFirstInvalid = (markup: Html) =>
  new Html(markup.value.replace(' aria-invalid="true"', ' aria-invalid="true" autofocus'));

/** Send a whole page, or only `fragment` when htmx asked and one is given. */
export function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  options: { status?: number; title: string; body: Html; fragment?: Html },
) {
  const fragment = isHtmx(request) ? options.fragment : undefined;
  const markup =
    fragment ?? page(options.title, { csrfToken: reply.csrfToken(), user: request.account ?? undefined }, options.body);
  const refused = options.status !== undefined && options.status >= 400 && options.status < 500;
  return sendMarkup(reply, refused ? focusFirstInvalid(markup) : markup, options.status);
}

/** After a successful form post: a 303 for plain forms, HX-Redirect for htmx. */
export function redirectAfterPost(request: FastifyRequest, reply: FastifyReply, location: string) {
  if (isHtmx(request)) return reply.code(204).header('HX-Redirect', location).send();
  return reply.redirect(location, 303);
}

/** Validate a form body with zod; errors come back keyed by field, one message each, for display beside it. */
export function parseForm<S extends z.ZodType>(
  schema: S,
  body: unknown,
): { ok: true; data: z.infer<S> } | { ok: false; errors: Record<string, string> } {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return { ok: true, data: parsed.data };
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? 'form');
    errors[key] ??= issue.code === 'invalid_type' ? 'This field is required' : issue.message;
  }
  return { ok: false, errors };
}

/** A string field as the user typed it, for re-display (never a password). */
export function typed(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value.slice(0, 200) : '';
}
