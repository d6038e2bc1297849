import { subjects } from '../events/index.ts';
import { waitForProjection } from '../platform/projectionWait.ts';
import { linkToken } from '../platform/tokens.ts';
import type { TestSystem } from './system.ts';
import { webClient, type WebClient } from './webClient.ts';
import { testUserId } from './personalKeys.ts';

/** Register and verify (the token computed as the notifier would put it in the email), by commands. */
export async function registeredUser(system: TestSystem, username: string, password: string): Promise<string> {
  const reply = await system.send('RequestRegistration', { username, email: `${username}@example.test`, password });
  if (!reply.ok) throw new Error(`could not register ${username}: ${reply.error}`);
  const userId = testUserId(username);
  const { history } = await system.world.store.load(subjects.user(system.world.ns, userId));
  const requested = history.flatMap((h) => h.events).find((e) => e.type === 'RegistrationRequested');
  if (requested?.type !== 'RegistrationRequested') throw new Error('no RegistrationRequested');
  const verified = await system.send('VerifyRegistration', {
    token: linkToken(system.linkSecret, 'verify', userId, requested.data.tokenNonce),
  });
  if (!verified.ok) throw new Error(`could not verify ${username}: ${verified.error}`);
  await waitForProjection(system.world.pool, system.world.schema, verified.seq, 5_000);
  return userId;
}

/** A registered user, logged in through the login form. */
export async function registeredBrowser(
  system: TestSystem,
  username: string,
  password: string,
  options: { ip?: string; htmx?: boolean } = {},
): Promise<{ browser: WebClient; userId: string }> {
  const userId = await registeredUser(system, username, password);
  const browser = webClient(system.app, options);
  await browser.get('/login');
  const login = await browser.post('/login', { username, password });
  if (login.status !== 303) throw new Error(`could not log in ${username}: ${login.status}`);
  // Follow the redirect as a browser does: its page carries the CSRF token of the new session.
  await browser.get(login.location ?? '/alerts');
  return { browser, userId };
}
