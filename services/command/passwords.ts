import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane (argon2id is the library's default algorithm;
// the RegistrationRequested schema refuses any other hash).
const options = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

// Compared against when the account does not exist, so a miss costs as long as a wrong password.
const decoyHash = hash('decoy password that matches nothing', options);

export const hashPassword = (password: string): Promise<string> => hash(password, options);

export async function passwordMatches(passwordHash: string | undefined, password: string): Promise<boolean> {
  if (!passwordHash) {
    await verify(await decoyHash, password).catch(() => false);
    return false;
  }
  return verify(passwordHash, password).catch(() => false);
}
