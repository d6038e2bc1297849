import { z } from 'zod';
import { ConfigError } from '../platform/config.ts';

/** The three ways the tests get a real server: the URL given, a container, or a local process (PGlite for Postgres). */
export type Way = 'urls' | 'containers' | 'processes';

/** Which way each server comes, and the images the containers way runs. */
export type ServerPlan = {
  nats: Way;
  postgres: Way;
  images: { nats: string; postgres: string };
};

// The official images, pinned; a machine without registry access names its own (test/containers/build-images.sh).
export const DEFAULT_NATS_IMAGE = 'nats:2.10.24';
export const DEFAULT_POSTGRES_IMAGE = 'postgres:15.10';

const imageName = z
  .string()
  .regex(/^[a-z0-9][\w./:@-]*$/, 'must be an image name such as nats:2.10.24 or cra-test/nats:2.9.10-debian');

const SettingsSchema = z.object({
  CRA_TEST_SERVERS: z
    .enum(['urls', 'containers', 'processes'], { message: 'must be urls, containers or processes' })
    .optional(),
  CRA_TEST_NATS_IMAGE: imageName.default(DEFAULT_NATS_IMAGE),
  CRA_TEST_POSTGRES_IMAGE: imageName.default(DEFAULT_POSTGRES_IMAGE),
  NATS_URL: z.string().optional(),
  DATABASE_URL: z.string().optional(),
});

/**
 * CRA_TEST_SERVERS forces one way for both servers. Unset, each server comes from its URL when one is given, else
 * from a container when a container engine answers (asked only then), else from a local process.
 */
export async function planTestServers(
  env: Record<string, string | undefined>,
  engineAnswers: () => Promise<boolean>,
): Promise<ServerPlan> {
  // An empty variable means unset, as for the services' own configuration.
  const parsed = SettingsSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid environment variable ${String(issue.path[0])}: ${issue.message}`);
  }
  const settings = parsed.data;
  const images = { nats: settings.CRA_TEST_NATS_IMAGE, postgres: settings.CRA_TEST_POSTGRES_IMAGE };
  const forced = settings.CRA_TEST_SERVERS;
  if (forced === 'urls') {
    const missing = (['NATS_URL', 'DATABASE_URL'] as const).filter((name) => !settings[name]);
    if (missing.length > 0) throw new ConfigError(`CRA_TEST_SERVERS=urls needs ${missing.join(' and ')}`);
  }
  if (forced === 'containers' && !(await engineAnswers())) {
    throw new ConfigError(
      'CRA_TEST_SERVERS=containers but no container engine answers (start Docker, or set DOCKER_HOST)',
    );
  }
  if (forced) return { nats: forced, postgres: forced, images };
  let engine: boolean | undefined;
  const unlessGiven = async (url: string | undefined): Promise<Way> => {
    if (url) return 'urls';
    engine ??= await engineAnswers();
    return engine ? 'containers' : 'processes';
  };
  return { nats: await unlessGiven(settings.NATS_URL), postgres: await unlessGiven(settings.DATABASE_URL), images };
}
