import axios, { type AxiosInstance, type AxiosError, type CreateAxiosDefaults } from 'axios';
import { ProviderError, type ProviderName } from '../core/errors.ts';

/**
 * One axios instance per provider with a timeout on every call (nothing waits
 * forever) and transport errors mapped to ProviderError. Business errors are
 * left to each adapter, because each provider spells them differently.
 */
export function createHttp(provider: ProviderName, config: CreateAxiosDefaults & { timeoutMs: number }): AxiosInstance {
  const { timeoutMs, ...rest } = config;
  const http = axios.create({
    ...rest,
    timeout: timeoutMs,
    // Adapters read error bodies themselves (Omie answers faults with 200 or 500).
    validateStatus: () => true,
    // Never follow a redirect on a money path.
    maxRedirects: 0,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(rest.headers ?? {}) },
  });
  http.interceptors.response.use(undefined, (error: AxiosError) => Promise.reject(toProviderError(provider, error)));
  return http;
}

export function toProviderError(provider: ProviderName, error: AxiosError): ProviderError {
  // Never keep the axios error itself: its config holds request bodies (Omie's
  // app_secret) and URLs (Z-API's instance token) that a logged cause would leak.
  const cause = { code: error.code ?? 'unknown' };
  if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT' || error.code === 'ERR_CANCELED') {
    return new ProviderError(provider, 'timeout', 'no answer in time', { cause });
  }
  return new ProviderError(provider, 'network', error.code ?? 'connection failed', { cause });
}

/** Maps an HTTP status that is not a success into the failure kind it means. */
export function failureForStatus(provider: ProviderName, status: number, message: string, code?: string): ProviderError {
  if (status === 401 || status === 403) return new ProviderError(provider, 'unauthorized', message, { status, code });
  if (status === 429) return new ProviderError(provider, 'rate_limited', message, { status, code });
  if (status >= 500) return new ProviderError(provider, 'unavailable', message, { status, code });
  return new ProviderError(provider, 'rejected', message, { status, code });
}
