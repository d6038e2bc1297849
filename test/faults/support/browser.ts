/** A browser with JavaScript off, over real HTTP to a `cra start web` process: keeps cookies, posts forms with the page's CSRF token. */
export type Page = { status: number; body: string; location: string | undefined; ms: number; headers: Headers };

export function browser(baseUrl: string, options: { headers?: Record<string, string> } = {}) {
  const jar = new Map<string, string>();
  let csrf = '';
  async function request(
    method: string,
    path: string,
    form?: Record<string, string>,
    timeoutMs = 30_000,
  ): Promise<Page> {
    const started = Date.now();
    const res = await fetch(new URL(path, baseUrl), {
      method,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        ...options.headers,
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    const body = await res.text();
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(pair!.slice(0, eq).trim());
      else jar.set(pair!.slice(0, eq).trim(), value);
    }
    csrf = /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? csrf;
    return {
      status: res.status,
      body,
      location: res.headers.get('location') ?? undefined,
      ms: Date.now() - started,
      headers: res.headers,
    };
  }
  return {
    get: (path: string, timeoutMs?: number) => request('GET', path, undefined, timeoutMs),
    /** Post a form as the page's submit button does (with the CSRF token of the last page seen). */
    post: (path: string, form: Record<string, string> = {}, timeoutMs?: number) =>
      request('POST', path, { _csrf: csrf, ...form }, timeoutMs),
    cookie: (name: string) => jar.get(name),
  };
}
export type Browser = ReturnType<typeof browser>;
