import nock from 'nock';
import { afterEach, beforeEach, vi } from 'vitest';

/** Every adapter test: no real network (loopback only), interceptors and spies cleared after each test. */
export function useNock(): void {
  beforeEach(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
    vi.restoreAllMocks();
  });
}
