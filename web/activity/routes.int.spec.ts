import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { webClient } from '../../test/webClient.ts';

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem();
});
afterAll(async () => {
  await system?.close();
});

describe('the activity page', () => {
  it("shows a user their own activity from the log, and nobody else's", async () => {
    const browser = webClient(system.app);
    await browser.get('/register');
    await browser.post('/register', {
      username: 'auditor',
      email: 'auditor@example.com',
      password: 'a long password 5',
    });
    const mail = (await system.smtp.waitFor((m) => m.some((e) => e.to.startsWith('auditor@')))).find((e) =>
      e.to.startsWith('auditor@'),
    )!;
    await browser.get(/http:\/\/localhost:7007(\/verify\?token=\S+)/.exec(mail.text)![1]!);
    await browser.get('/login');
    await browser.post('/login', { username: 'auditor', password: 'a long password 5' });
    const page = await browser.get('/activity');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Registered your account');
    expect(page.body).toContain('Logged in');
    expect(page.body).toContain('Email sent: verification');
    expect(page.body).not.toContain('journey');
    expect((await webClient(system.app).get('/activity')).location).toBe('/login?next=%2Factivity');
  });
});
