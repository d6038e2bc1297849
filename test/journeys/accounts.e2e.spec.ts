import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectNoSecretsIn } from '../faults/support/invariants.ts';
import { startTestSystem, type TestSystem } from '../system.ts';
import { webClient } from '../webClient.ts';

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({ captureLog: true });
});
afterAll(async () => system?.close());

/** Every token emailed and every password typed in this file: none may reach what the services log. */
const secrets = new Set<string>(['a long password 1', 'a long password 2', 'a long password 3', 'hunter2 but longer']);

const linkIn = (text: string, path: string) => {
  const match = new RegExp(`http://localhost:7007(${path}\\?token=[^\\s"<>]+)`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  const link = decodeURIComponent(match[1]!).replace(/&amp;/g, '&');
  secrets.add(link.split('token=')[1]!);
  return link;
};

// Each journey here sends a link and follows it through the web, whose request lines are the likeliest leak.
afterEach(() => {
  const output = system.world.logOutput();
  expect(output).toContain('"msg":"incoming request"');
  expectNoSecretsIn(output, secrets, 'the output of the services');
});

describe('accounts journey through the real SMTP sink', () => {
  it('register → email → verify → log in → log out → old cookie refused', async () => {
    const browser = webClient(system.app);
    await browser.get('/register');
    expect(
      (
        await browser.post('/register', {
          username: 'Journey',
          email: 'journey@example.com',
          password: 'a long password 1',
        })
      ).status,
    ).toBe(200);
    const [mail] = await system.smtp.waitFor((m) => m.some((e) => e.to.includes('journey@example.com')));
    expect(mail!.subject).toMatch(/verify|confirm/i);
    expect(mail!.html).toContain('/verify?token=');
    const verify = linkIn(mail!.text, '/verify');

    expect((await browser.get(verify)).status).toBe(200);
    await browser.get('/login');
    const login = await browser.post('/login', { username: 'journey', password: 'a long password 1' });
    expect(login.status).toBe(303);
    const cookie = browser.cookie('cra_session')!;
    expect((await browser.get('/')).location).toBe('/alerts');
    await browser.get('/alerts');
    expect((await browser.post('/logout')).status).toBe(303);

    const attacker = webClient(system.app);
    attacker.setCookie('cra_session', cookie);
    expect((await attacker.get('/')).location).toBe('/login');
  });

  it('sends exactly one verification email for ten racing registrations of one username', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const browser = webClient(system.app, { ip: `10.9.0.${i}` });
        await browser.get('/register');
        return browser.post('/register', {
          username: 'contested',
          email: `contested${i}@example.com`,
          password: 'a long password 2',
        });
      }),
    );
    expect(attempts.filter((r) => r.status === 200)).toHaveLength(1);
    expect(attempts.filter((r) => r.status === 422)).toHaveLength(9);
    await system.smtp.waitFor((m) => m.some((e) => e.to.startsWith('contested')));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(system.smtp.received.filter((e) => e.to.startsWith('contested'))).toHaveLength(1);
  });

  it('resends the link on request and the new link works once', async () => {
    const browser = webClient(system.app);
    await browser.get('/register');
    await browser.post('/register', {
      username: 'resender',
      email: 'resender@example.com',
      password: 'a long password 3',
    });
    await system.smtp.waitFor((m) => m.some((e) => e.to.includes('resender@')));
    await browser.get('/register/resend');
    expect((await browser.post('/register/resend', { username: 'resender' })).status).toBe(200);
    const mails = await system.smtp.waitFor((m) => m.filter((e) => e.to.includes('resender@')).length === 2);
    const links = mails.filter((e) => e.to.includes('resender@')).map((e) => linkIn(e.text, '/verify'));
    expect(links[0]).not.toBe(links[1]);
    expect((await browser.get(links[0]!)).status).toBe(400);
    expect((await browser.get(links[1]!)).status).toBe(200);
    expect((await browser.get(links[1]!)).status).toBe(410);
  });

  it('leaves no plaintext password or token anywhere in the log', async () => {
    const browser = webClient(system.app);
    await browser.get('/register');
    await browser.post('/register', {
      username: 'secretive',
      email: 'secretive@example.com',
      password: 'hunter2 but longer',
    });
    const mail = (await system.smtp.waitFor((m) => m.some((e) => e.to.includes('secretive@')))).find((e) =>
      e.to.includes('secretive@'),
    )!;
    const token = linkIn(mail.text, '/verify').split('token=')[1]!;
    await browser.get(`/verify?token=${token}`);
    await browser.get('/password/forgot');
    await browser.post('/password/forgot', { email: 'secretive@example.com' });
    const reset = (
      await system.smtp.waitFor((m) => m.some((e) => e.to.includes('secretive@') && /reset/i.test(e.subject)))
    ).find((e) => /reset/i.test(e.subject) && e.to.includes('secretive@'))!;
    const resetToken = linkIn(reset.text, '/password/reset').split('token=')[1]!;

    // The reset link followed too, as a person does before typing a new password.
    expect((await browser.get(`/password/reset?token=${encodeURIComponent(resetToken)}`)).status).toBe(200);

    const inLog = [
      'hunter2 but longer',
      'a long password 1',
      token,
      resetToken,
      token.split('.')[1]!,
      resetToken.split('.')[1]!,
    ];
    let log = '';
    for await (const raw of system.world.store.read({ fromSeq: 1 }))
      log += `${JSON.stringify(raw.headers)}\n${new TextDecoder().decode(raw.body)}\n`;
    expect(log.length).toBeGreaterThan(1000);
    for (const secret of inLog) expect(log).not.toContain(secret);
    expect(log).toContain('$argon2id$');
  });
});
