import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSystem, type TestSystem } from '../../test/system.ts';

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({ notifier: false, web: { publicUrl: 'https://cra.example.com' } });
});
afterAll(async () => system?.close());

describe('cookies behind https', () => {
  it('marks cookies Secure when PUBLIC_URL is https', async () => {
    const res = await system.app.inject({ url: '/login' });
    const cookies = [res.headers['set-cookie'] ?? []].flat();
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie).toMatch(/; Secure/i);
  });
});
