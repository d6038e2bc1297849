import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AggregateId, ChannelFormat, CommandId, WebhookUrl } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { checkDestination, RefusedDestination } from '../../platform/webhookHttp/destination.ts';
import type { WebDeps } from '../deps.ts';
import type { FieldErrors } from '../shared/forms.ts';
import { sendRefusal } from '../shared/refusals.ts';
import { parseForm, sendPage, typed } from '../shared/respond.ts';
import { requireAccount } from '../shared/session.ts';
import { channelsOf } from './queries.ts';
import * as views from './views.ts';

const ChannelForm = z.object({ url: WebhookUrl, format: z.enum(ChannelFormat.options, { error: 'Choose a format' }) });

const newCommandId = () => randomUUID().replaceAll('-', '');
/** The form's idempotency key, scoped to the person: a double submit adds one channel, and nobody can name another's. */
const channelKeys = (userId: string, formKey: string) => {
  const digest = createHash('sha256').update(`add-channel|${userId}|${formKey}`).digest('hex').slice(0, 32);
  return { commandId: `chn${digest}`, channelId: `c${digest}` };
};

/** The channels page: add a webhook, send it a test, pause, resume and delete it (docs/design.md §6). */
export async function channelRoutes(app: FastifyInstance, deps: WebDeps) {
  const { pool, schema } = deps;
  const policy = deps.webhooks?.policy ?? { allowHttp: false, allowPrivate: false };
  const waitFor = (seq: number) => waitForProjection(pool, schema, seq, deps.projectionWaitMs);

  const shown = async (userId: string) =>
    Promise.all(
      (await channelsOf(pool, schema, userId)).map(async (c) => ({
        ...c,
        url: await deps.personal.reveal(userId, 'webhook-url', c.url),
      })),
    );

  const sendChannelsPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    form: views.ChannelFormState,
    options: { status?: number; done?: views.Done } = {},
  ) => {
    const csrf = reply.csrfToken();
    return sendPage(request, reply, {
      status: options.status ?? 200,
      title: 'Channels',
      body: views.channelsPage(csrf, await shown(request.account!.userId), form, options.done),
    });
  };
  const freshForm = (): views.ChannelFormState => ({ commandId: newCommandId(), values: {}, errors: {} });

  app.get('/channels', { preHandler: requireAccount }, (request, reply) =>
    sendChannelsPage(request, reply, freshForm()),
  );

  app.post('/channels', { preHandler: requireAccount }, async (request, reply) => {
    const { userId } = request.account!;
    const typedKey = typed(request.body, 'commandId');
    const formKey = CommandId.safeParse(typedKey).success ? typedKey : newCommandId();
    const values = { url: typed(request.body, 'url'), format: typed(request.body, 'format') };
    const refuse = (errors: FieldErrors, status = 422) =>
      sendChannelsPage(request, reply, { commandId: formKey, values, errors }, { status });

    const form = parseForm(ChannelForm, request.body);
    if (!form.ok) return refuse(form.errors);
    // Where the URL leads now (checked again at every send, on the address the connection uses).
    try {
      await checkDestination(form.data.url, policy, deps.webhooks?.resolve);
    } catch (error) {
      if (error instanceof RefusedDestination) return refuse({ url: error.message });
      throw error;
    }
    const { commandId, channelId } = channelKeys(userId, formKey);
    const result = await request.sendCommand('AddChannel', { userId, channelId, ...form.data }, { commandId });
    if (!result.ok && result.error !== 'ALREADY_EXISTS')
      return sendRefusal(request, reply, result, 'channelForm', (errors, status) => refuse(errors, status));
    if (result.ok) await waitFor(result.seq);
    // The same form again: the channel exists, and its secret was told by the answer that stored it (only that one has it).
    const secret = result.ok ? result.result.secret : undefined;
    return sendChannelsPage(request, reply, freshForm(), {
      status: secret ? 201 : 200,
      done: { added: { format: form.data.format, ...(secret && form.data.format === 'json' ? { secret } : {}) } },
    });
  });

  const channelIdParam = (request: FastifyRequest) => {
    const parsed = AggregateId.safeParse((request.params as Record<string, unknown>).id);
    return parsed.success ? parsed.data : undefined;
  };
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    sendRefusal(request, reply, { ok: false, error: 'NOT_FOUND', message: 'No such channel' });

  type Send = FastifyRequest['sendCommand'];
  /** One of the row's buttons: its command, then the page again (303, so a reload does not send it twice). */
  const onChannel = (path: string, command: (send: Send, userId: string, channelId: string) => ReturnType<Send>) =>
    app.post(path, { preHandler: requireAccount }, async (request, reply) => {
      const channelId = channelIdParam(request);
      if (!channelId) return notFound(request, reply);
      const result = await command(request.sendCommand.bind(request), request.account!.userId, channelId);
      if (!result.ok) return sendRefusal(request, reply, result);
      await waitFor(result.seq);
      return reply.redirect('/channels', 303);
    });

  // Each click is a test of its own.
  onChannel('/channels/:id/test', (send, userId, channelId) =>
    send('TestChannel', { userId, channelId, testId: newCommandId() }),
  );
  // Pausing a paused channel (or resuming an active one) records nothing: the decider answers it as done.
  onChannel('/channels/:id/pause', (send, userId, channelId) =>
    send('PauseChannel', { userId, channelId, reason: 'owner' }),
  );
  onChannel('/channels/:id/resume', (send, userId, channelId) => send('ResumeChannel', { userId, channelId }));

  app.post('/channels/:id/delete', { preHandler: requireAccount }, async (request, reply) => {
    const channelId = channelIdParam(request);
    if (!channelId) return notFound(request, reply);
    const { userId } = request.account!;
    if (typed(request.body, 'confirm') !== 'yes') {
      // Without JavaScript the row's button comes here first: what is deleted, and the button that deletes it.
      const channel = (await shown(userId)).find((c) => c.channelId === channelId);
      if (!channel) return notFound(request, reply);
      return sendPage(request, reply, {
        title: 'Delete channel',
        body: views.deleteConfirmPage(reply.csrfToken(), channel),
      });
    }
    const result = await request.sendCommand('DeleteChannel', { userId, channelId });
    if (!result.ok) return sendRefusal(request, reply, result);
    await waitFor(result.seq);
    return reply.redirect('/channels', 303);
  });
}
