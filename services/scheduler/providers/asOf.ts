// Pure: the publication id a run is known by. It becomes a NATS subject token, so no dots or colons.

/** Unix seconds as a subject-safe UTC date-time: 1793635200 → "2026-11-02T160000Z". */
export function asOfFromUnixSeconds(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString(); // 2026-11-02T16:00:00.000Z
  return `${iso.slice(0, 19).replaceAll(':', '')}Z`;
}
