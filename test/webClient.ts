import type { FastifyInstance } from 'fastify';

export type WebResponse = {
  status: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
  location?: string;
};

type Transport = (r: {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  ip: string;
}) => Promise<{ statusCode: number; body: string; headers: Record<string, string | string[] | number | undefined> }>;

const injectTransport =
  (app: FastifyInstance): Transport =>
  async (r) => {
    const res = await app.inject({
      method: r.method as 'GET',
      url: r.url,
      remoteAddress: r.ip,
      headers: r.headers,
      ...(r.payload !== undefined ? { payload: r.payload } : {}),
    });
    return { statusCode: res.statusCode, body: res.body, headers: res.headers };
  };

/** The same client over real HTTP (a running `cra start`). */
const fetchTransport =
  (baseUrl: string): Transport =>
  async (r) => {
    const res = await fetch(new URL(r.url, baseUrl), {
      method: r.method,
      headers: r.headers,
      redirect: 'manual',
      ...(r.payload !== undefined ? { body: r.payload } : {}),
    });
    const headers: Record<string, string | string[]> = {};
    res.headers.forEach((value, key) => {
      headers[key] = value;
    });
    headers['set-cookie'] = res.headers.getSetCookie();
    return { statusCode: res.status, body: await res.text(), headers };
  };

export const httpClient = (baseUrl: string, options: { htmx?: boolean } = {}) =>
  webClient(fetchTransport(baseUrl), options);

/** A cookie-keeping client over app.inject (no port opened) or real HTTP: what a browser with JavaScript off does. */
export function webClient(target: FastifyInstance | Transport, options: { htmx?: boolean; ip?: string } = {}) {
  const transport: Transport = typeof target === 'function' ? target : injectTransport(target);
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

  async function request(
    method: string,
    url: string,
    form?: Record<string, string>,
    extraHeaders: Record<string, string> = {},
  ): Promise<WebResponse> {
    const res = await transport({
      method,
      url,
      ip: options.ip ?? '127.0.0.1',
      headers: {
        cookie: cookieHeader(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(options.htmx ? { 'hx-request': 'true', 'x-csrf-token': lastCsrf } : {}),
        ...extraHeaders,
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    remember(res.headers['set-cookie'] as string | string[] | undefined);
    const csrf =
      /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ??
      /x-csrf-token&quot;:&quot;([^&]+)&quot;/.exec(res.body)?.[1];
    if (csrf) lastCsrf = csrf;
    const location = res.headers.location ?? res.headers['hx-redirect'];
    return {
      status: res.statusCode,
      body: res.body,
      headers: res.headers,
      ...(typeof location === 'string' ? { location } : {}),
    };
  }

  return {
    jar,
    get: (url: string, headers?: Record<string, string>) => request('GET', url, undefined, headers),
    /** Post a form with the CSRF token of the last page seen (as the hidden field does). */
    post: (url: string, form: Record<string, string> = {}, headers?: Record<string, string>) =>
      request('POST', url, { _csrf: lastCsrf, ...form }, headers),
    postRaw: (url: string, form: Record<string, string>, headers?: Record<string, string>) =>
      request('POST', url, form, headers),
    delete: (url: string, headers?: Record<string, string>) => request('DELETE', url, undefined, headers),
    csrf: () => lastCsrf,
    cookie: (name: string) => jar.get(name),
    setCookie: (name: string, value: string) => jar.set(name, value),
  };
}
export type WebClient = ReturnType<typeof webClient>;
