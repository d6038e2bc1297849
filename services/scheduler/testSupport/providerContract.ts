import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../platform/logger.ts';
import {
  capturingLogger,
  quickHttp,
  startProviderServer,
  type ProviderServer,
  type Reply,
} from './localProviderServer.ts';
import { RatesProviderError, type HttpPolicy, type RatesProvider } from '../providers/ratesProvider.ts';

// Test support: what every adapter must do over HTTP, run by each provider's spec against a local server.

export type ContractSubject = {
  make: (baseUrl: string, http: Partial<HttpPolicy>, logger: Logger) => RatesProvider;
  /** A documented success body of this provider. */
  success: string;
};

export function describeProviderTransport({ make, success }: ContractSubject): void {
  describe('over HTTP', () => {
    let server: ProviderServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });
    const serve = async (replies: Reply[]) => (server = await startProviderServer(replies));
    const failure = async (provider: RatesProvider): Promise<RatesProviderError> => {
      const error: unknown = await provider.fetchLatest().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RatesProviderError);
      return error as RatesProviderError;
    };

    it('retries a 500 and then reads the answer', async () => {
      const { url, requests } = await serve([{ status: 500, body: 'Internal Server Error' }, { body: success }]);
      const { logger, lines } = capturingLogger();
      const publication = await make(url, quickHttp, logger).fetchLatest();
      expect(Object.keys(publication.rates).length).toBeGreaterThan(1);
      expect(requests).toHaveLength(2);
      expect(
        lines.some((l) => l.msg === 'rates request failed, will retry' && String(l.reason).includes('HTTP 500')),
      ).toBe(true);
    });

    it('gives up after the configured attempts when the server keeps failing', async () => {
      const { url, requests } = await serve([{ status: 503, body: 'busy' }]);
      const error = await failure(make(url, quickHttp, capturingLogger().logger));
      expect(error.kind).toBe('http-status');
      expect(error.message).toMatch(/HTTP 503: busy \(after 3 attempts\)/);
      expect(requests).toHaveLength(3);
    });

    it('retries a dropped connection', async () => {
      const { url, requests } = await serve(['hang-up', { body: success }]);
      await make(url, quickHttp, capturingLogger().logger).fetchLatest();
      expect(requests).toHaveLength(2);
    });

    it('names the network error when nothing listens', async () => {
      const closed = await startProviderServer([]);
      await closed.close();
      const error = await failure(make(closed.url, { ...quickHttp, attempts: 2 }, capturingLogger().logger));
      expect(error.kind).toBe('network');
      expect(error.reason).toMatch(/ECONNREFUSED/);
    });

    it('refuses an HTML page without retrying', async () => {
      const { url, requests } = await serve([
        { body: '<!DOCTYPE html><html><body>Gateway login</body></html>', contentType: 'text/html' },
      ]);
      const error = await failure(make(url, quickHttp, capturingLogger().logger));
      expect(error.kind).toBe('bad-response');
      expect(error.message).toMatch(/not JSON: <!DOCTYPE html>/);
      expect(requests).toHaveLength(1);
    });

    it('refuses JSON in another shape, naming what is wrong', async () => {
      const { url } = await serve([{ body: '{"hello":"world"}' }]);
      const error = await failure(make(url, quickHttp, capturingLogger().logger));
      expect(error.kind).toBe('bad-response');
      expect(error.reason).toMatch(/not in the documented format: .*(rates|quotes)/);
    });

    it('does not retry a 404 page', async () => {
      const { url, requests } = await serve([{ status: 404, body: '<h1>Not Found</h1>', contentType: 'text/html' }]);
      const error = await failure(make(url, quickHttp, capturingLogger().logger));
      expect(error.kind).toBe('http-status');
      expect(error.reason).toMatch(/HTTP 404/);
      expect(requests).toHaveLength(1);
    });

    it('times out a server that never answers, on every attempt', async () => {
      const { url, requests } = await serve(['hang']);
      const started = Date.now();
      // 250 ms leaves a loaded CI machine time to deliver each attempt to the server before it times out.
      const error = await failure(make(url, { timeoutMs: 250, attempts: 2, backoffMs: 1 }, capturingLogger().logger));
      expect(error.kind).toBe('timeout');
      expect(error.reason).toMatch(/no complete answer within 250 ms \(after 2 attempts\)/);
      expect(requests).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('times out a body that stalls halfway', async () => {
      const { url } = await serve(['stall-body']);
      const error = await failure(make(url, { timeoutMs: 50, attempts: 1, backoffMs: 1 }, capturingLogger().logger));
      expect(error.kind).toBe('timeout');
    });

    it('stops at once when the caller aborts, without retrying', async () => {
      const { url, requests } = await serve(['hang']);
      const provider = make(url, { timeoutMs: 5_000, attempts: 3, backoffMs: 1 }, capturingLogger().logger);
      // Abort once the server holds the request (a fixed delay would race the request on a loaded machine).
      const controller = new AbortController();
      const fetching = provider.fetchLatest(controller.signal).catch((e: unknown) => e);
      while (requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      controller.abort();
      const error: unknown = await fetching;
      expect(error).toBeInstanceOf(RatesProviderError);
      expect((error as RatesProviderError).kind).toBe('aborted');
      expect(requests).toHaveLength(1);
    });
  });
}
