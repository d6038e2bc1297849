import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One occurrence of a needle in a file: where, and the bytes around it (printable), to tell which table or stream it is. */
export type Found = { needle: string; what: string; file: string; offset: number; context: string };

/** A value to look for, under a name that says whose it is (the name goes into a failure message, never the value's bytes alone). */
export type Needle = { what: string; bytes: Buffer };

/**
 * The ways a text can sit on disk without being sealed: as typed, in lower and upper case, and base64 (or base64url) encoded
 * at each of the three alignments a longer encoded text can start it at (a token or a cookie that embeds it).
 */
export function textForms(what: string, text: string): Needle[] {
  const plain = [...new Set([text, text.toLowerCase(), text.toUpperCase()])].map((t) => ({
    what: `${what} (${t === text ? 'as typed' : t === text.toLowerCase() ? 'lower case' : 'upper case'})`,
    bytes: Buffer.from(t, 'utf8'),
  }));
  const encoded = [0, 1, 2].flatMap((pad) => {
    // `pad` bytes before the text: the encoding of the text proper starts at a whole group of 4 characters.
    const base64 = Buffer.concat([Buffer.alloc(pad), Buffer.from(text, 'utf8')]).toString('base64');
    const start = pad === 0 ? 0 : 4;
    const whole = base64.slice(start, start + Math.floor((base64.length - start - 4) / 4) * 4);
    const forms = [whole, whole.replace(/\+/g, '-').replace(/\//g, '_')];
    return [...new Set(forms)].map((f) => ({ what: `${what} (base64, offset ${pad})`, bytes: Buffer.from(f) }));
  });
  return [...plain, ...encoded.filter((n) => n.bytes.length >= 12)];
}

/** A secret's raw bytes and its usual text encodings (hex, base64, base64url). */
export function bytesForms(what: string, bytes: Buffer): Needle[] {
  return [
    { what: `${what} (raw bytes)`, bytes },
    { what: `${what} (hex)`, bytes: Buffer.from(bytes.toString('hex')) },
    { what: `${what} (base64)`, bytes: Buffer.from(bytes.toString('base64').replace(/=+$/, '')) },
    { what: `${what} (base64url)`, bytes: Buffer.from(bytes.toString('base64url')) },
  ];
}

/** Every regular file under each path (a path may be a file), directories followed, sockets and the like skipped. */
export function filesUnder(paths: readonly string[]): string[] {
  const files: string[] = [];
  const visit = (path: string) => {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat) return;
    const target = stat.isSymbolicLink() ? statSync(path, { throwIfNoEntry: false }) : stat;
    if (target?.isDirectory()) for (const name of readdirSync(path).sort()) visit(join(path, name));
    else if (target?.isFile()) files.push(path);
  };
  for (const path of paths) visit(path);
  return files;
}

const printable = (bytes: Buffer) => bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.');

/** Every occurrence of every needle in every regular file under `paths`: a byte search, whatever the file's format. */
export function searchFiles(paths: readonly string[], needles: readonly Needle[]): Found[] {
  const found: Found[] = [];
  for (const file of filesUnder(paths)) {
    const content = readFileSync(file);
    for (const { what, bytes } of needles) {
      for (let at = content.indexOf(bytes); at !== -1; at = content.indexOf(bytes, at + 1)) {
        const context = printable(content.subarray(Math.max(0, at - 80), at + bytes.length + 80));
        found.push({ needle: printable(bytes), what, file, offset: at, context });
      }
    }
  }
  return found;
}

/** Found occurrences, one line each, for a failure message. */
export const describeFound = (found: readonly Found[]) =>
  found.map((f) => `${f.what} in ${f.file} at byte ${f.offset}: …${f.context}…`).join('\n');
