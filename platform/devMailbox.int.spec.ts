import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DevMailbox } from './devMailbox.ts';

const root = mkdtempSync(join(tmpdir(), 'cra-mailbox-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const email = {
  from: 'CRA <a@cra.test>',
  to: 'ann@example.com',
  subject: 'Reset',
  text: 'link',
  html: '<p>link</p>',
  messageId: '<reset.1@cra.test>',
};

describe('the dev mailbox on disk', () => {
  it('keeps the emails, which hold live reset links, readable by their owner only', async () => {
    const dir = join(root, 'fresh');
    await new DevMailbox(dir).deliver(email);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
  });

  it('does not inherit the mode of a half-written file a crash left behind', async () => {
    const dir = join(root, 'crashed');
    mkdirSync(dir, { mode: 0o700 });
    const mailbox = new DevMailbox(dir);
    await mailbox.deliver(email);
    const [name] = readdirSync(dir);
    writeFileSync(join(dir, `${name}.tmp`), '{');
    chmodSync(join(dir, `${name}.tmp`), 0o644);
    await mailbox.deliver(email);
    expect(readdirSync(dir)).toEqual([name]);
    expect(statSync(join(dir, name!)).mode & 0o777).toBe(0o600);
  });
});
