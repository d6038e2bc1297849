import { describe, expect, it } from 'vitest';
import { browserUrl, isLoopbackAddress, isWildcardAddress } from './listenAddress.ts';

describe('isLoopbackAddress', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::FFFF:127.0.0.2'])(
    '%s is this machine',
    (address) => {
      expect(isLoopbackAddress(address)).toBe(true);
    },
  );

  it.each([
    '192.0.2.2',
    '10.0.0.1',
    '0.0.0.0',
    '::',
    'fd00::1',
    '::ffff:10.0.0.1',
    '::2',
    '1::1',
    '128.0.0.1',
    'localhost',
    '',
    undefined,
  ])('%s is not', (address) => {
    expect(isLoopbackAddress(address)).toBe(false);
  });
});

describe('browserUrl', () => {
  it('points a browser on this machine at localhost when the server listens on loopback or everywhere', () => {
    expect(browserUrl('127.0.0.1', 7007)).toBe('http://localhost:7007');
    expect(browserUrl('::1', 7007)).toBe('http://localhost:7007');
    expect(browserUrl('0.0.0.0', 8080)).toBe('http://localhost:8080');
    expect(browserUrl('::', 8080)).toBe('http://localhost:8080');
  });

  it('names a specific address as it is', () => {
    expect(browserUrl('192.0.2.2', 7007)).toBe('http://192.0.2.2:7007');
    expect(browserUrl('fd00::2', 7007)).toBe('http://[fd00::2]:7007');
    expect(browserUrl('cra.internal', 7007)).toBe('http://cra.internal:7007');
  });

  it('knows the wildcard addresses', () => {
    expect(['0.0.0.0', '::', '127.0.0.1', '192.0.2.2'].map(isWildcardAddress)).toEqual([true, true, false, false]);
  });
});
