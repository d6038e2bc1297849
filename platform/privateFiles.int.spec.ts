import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tightenPrivateDir, writePrivateFile } from './privateFiles.ts';

const root = mkdtempSync(join(tmpdir(), 'cra-private-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe('private files in the data dir', () => {
  it("tightens a data dir an older start left readable by everyone, two levels down, keeping the owner's bits", () => {
    const dir = join(root, 'old');
    mkdirSync(join(dir, 'mailbox'), { recursive: true, mode: 0o755 });
    mkdirSync(join(dir, 'nats', 'jetstream', 'deep'), { recursive: true, mode: 0o755 });
    for (const [file, m] of [
      ['runtime.json', 0o644],
      ['jwt-secret', 0o644],
      ['mailbox/abc.json', 0o644],
      ['tool.sh', 0o755],
      ['nats/jetstream/deep/f', 0o644],
    ] as const) {
      writeFileSync(join(dir, file), 'x');
      chmodSync(join(dir, file), m);
    }
    chmodSync(dir, 0o755);
    symlinkSync('/etc/hostname', join(dir, 'link'));

    tightenPrivateDir(dir);

    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'runtime.json'))).toBe(0o600);
    expect(mode(join(dir, 'jwt-secret'))).toBe(0o600);
    expect(mode(join(dir, 'mailbox'))).toBe(0o700);
    expect(mode(join(dir, 'mailbox/abc.json'))).toBe(0o600);
    expect(mode(join(dir, 'tool.sh'))).toBe(0o700);
    expect(mode(join(dir, 'nats/jetstream'))).toBe(0o700);
    // Below two levels the owner-only directories above already keep others out.
    expect(mode(join(dir, 'nats/jetstream/deep/f'))).toBe(0o644);
    expect(mode('/etc/hostname') & 0o004).toBe(0o004);
  });

  it('creates a missing data dir owner-only', () => {
    tightenPrivateDir(join(root, 'new', 'data'));
    expect(mode(join(root, 'new', 'data'))).toBe(0o700);
  });

  it('writes a file owner-only even over one that was readable by everyone', () => {
    const file = join(root, 'secret');
    writeFileSync(file, 'old', { mode: 0o644 });
    chmodSync(file, 0o644);
    writePrivateFile(file, 'new');
    expect(mode(file)).toBe(0o600);
  });
});
