/**
 * A small error tree. Refusals are values, not exceptions (STYLE rule 2);
 * these are for configuration mistakes and transport failures.
 */

/** The configuration or a command line is wrong: a person must fix it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type ProviderName = 'omie' | 'trio' | 'bcb' | 'fiscal' | 'zapi' | 'model';

export type ProviderFailure =
  /** No answer in time: the call may or may not have taken effect. */
  | 'timeout'
  /** The connection failed before a request could be sent or answered. */
  | 'network'
  /** The provider asked us to slow down (HTTP 429, Omie's MISUSE/Client-6…). */
  | 'rate_limited'
  /** HTTP 5xx or an answer we cannot parse: transient, safe to retry reads. */
  | 'unavailable'
  /** The provider refused the request for a business reason (not retryable). */
  | 'rejected'
  /** Our credentials were refused. */
  | 'unauthorized';

/** A provider call failed. `outcomeUnknown` is true when a write may have happened anyway. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly provider: ProviderName;
  readonly failure: ProviderFailure;
  readonly status: number | undefined;
  readonly code: string | undefined;

  constructor(
    provider: ProviderName,
    failure: ProviderFailure,
    message: string,
    details: { status?: number; code?: string; cause?: unknown } = {},
  ) {
    super(`${provider}: ${message}`, { cause: details.cause });
    this.provider = provider;
    this.failure = failure;
    this.status = details.status;
    this.code = details.code;
  }

  get retryable(): boolean {
    return this.failure !== 'rejected' && this.failure !== 'unauthorized';
  }

  /** For a write: the provider may have done it even though we saw a failure. */
  get outcomeUnknown(): boolean {
    return this.failure === 'timeout' || this.failure === 'network' || this.failure === 'unavailable';
  }
}
