import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './privateFiles.ts';

export type StoredEmail = {
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
  date: string;
};

/**
 * The all-in-one start's mailbox: every email as one JSON file in the data dir, named by its Message-ID,
 * so a resend of the same email replaces it rather than adding a copy. Shown at /dev/mailbox. Owner only: the
 * files hold live verification and reset links.
 */
export class DevMailbox {
  constructor(
    private readonly dir: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async deliver(
    email: Omit<StoredEmail, 'id' | 'date' | 'headers'> & { headers?: Record<string, string> },
  ): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const id = createHash('sha256').update(email.messageId).digest('hex').slice(0, 24);
    const stored: StoredEmail = { ...email, headers: email.headers ?? {}, id, date: this.now().toISOString() };
    const file = join(this.dir, `${id}.json`);
    await writeFile(`${file}.tmp`, JSON.stringify(stored), { mode: PRIVATE_FILE_MODE });
    await chmod(`${file}.tmp`, PRIVATE_FILE_MODE); // a .tmp left by a crash keeps its old mode
    await rename(`${file}.tmp`, file);
  }

  async list(): Promise<StoredEmail[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const all = await Promise.all(
      names.map(async (n) => JSON.parse(await readFile(join(this.dir, n), 'utf8')) as StoredEmail),
    );
    return all.sort((a, b) => b.date.localeCompare(a.date));
  }

  async read(id: string): Promise<StoredEmail | undefined> {
    if (!/^[0-9a-f]{24}$/.test(id)) return undefined;
    try {
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as StoredEmail;
    } catch {
      return undefined;
    }
  }
}
