import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The data dir holds secrets (NATS password, cookie secret, reset links): other local users get nothing. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** mkdir -p, owner only; an existing directory (from an older start) is tightened too. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Write a file only its owner can read; `mode` applies on creation only, so an existing file is chmod-ed. */
export function writePrivateFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: PRIVATE_FILE_MODE });
  chmodSync(path, PRIVATE_FILE_MODE);
}

/**
 * Take group and other permissions off `dir` and what lies within `depth` levels of it (data dirs of older
 * starts were 0755 with 0644 files); the owner's bits stay, so nothing of the owner's stops working.
 * Deeper entries are out of others' reach once a directory above them is owner-only.
 */
export function tightenPrivateDir(dir: string, depth = 2): void {
  ensurePrivateDir(dir);
  const walk = (path: string, left: number) => {
    for (const name of readdirSync(path)) {
      const entry = join(path, name);
      let stat;
      try {
        stat = lstatSync(entry);
      } catch {
        continue; // removed meanwhile (a server in the dir may still be shutting down)
      }
      if (stat.isSymbolicLink()) continue;
      if ((stat.mode & 0o077) !== 0) chmodSync(entry, stat.mode & 0o700);
      if (stat.isDirectory() && left > 1) walk(entry, left - 1);
    }
  };
  walk(dir, depth);
}
