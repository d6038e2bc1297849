import type { FastifyInstance } from 'fastify';

export type WebResponse = { status: number; body: string; headers: Record<string, string | string[] | number | undefined>; location?: string };

/** A cookie-keeping client over app.inject: what a browser with JavaScript off does, no port opened. */
export function webClient(app: FastifyInstance, options: { htmx?: boolean; ip?: string } = {}) {
  const jar = new Map<string, string>();
  const remember = (setCookie: string | string[] | undefined) => {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  };
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let lastCsrf = '';

  async function request(method: string, url: string, form?: Record<string, string>, extraHeaders: Record<string, string> = {}): Promise<WebResponse> {
    const res = await app.inject({
      method: method as 'GET',
      url,
      remoteAddress: options.ip ?? '127.0.0.1',
      headers: {
        cookie: cookieHeader(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(options.htmx ? { 'hx-request': 'true', 'x-csrf-token': lastCsrf } : {}),
        ...extraHeaders,
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    remember(res.headers['set-cookie']);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ?? /x-csrf-token&quot;:&quot;([^&]+)&quot;/.exec(res.body)?.[1];
    if (csrf) lastCsrf = csrf;
    const location = res.headers.location ?? res.headers['hx-redirect'];
    return { status: res.statusCode, body: res.body, headers: res.headers, ...(typeof location === 'string' ? { location } : {}) };
  }

  return {
    jar,
    get: (url: string, headers?: Record<string, string>) => request('GET', url, undefined, headers),
    /** Post a form with the CSRF token of the last page seen (as the hidden field does). */
    post: (url: string, form: Record<string, string> = {}, headers?: Record<string, string>) => request('POST', url, { _csrf: lastCsrf, ...form }, headers),
    postRaw: (url: string, form: Record<string, string>, headers?: Record<string, string>) => request('POST', url, form, headers),
    delete: (url: string, headers?: Record<string, string>) => request('DELETE', url, undefined, headers),
    csrf: () => lastCsrf,
    cookie: (name: string) => jar.get(name),
    setCookie: (name: string, value: string) => jar.set(name, value),
  };
}
export type WebClient = ReturnType<typeof webClient>;
