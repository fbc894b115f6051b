/**
 * The credentials the emulators expect and the adapters send in sandbox mode.
 * They are not secrets: they only open the emulators on this machine. The real
 * providers' credentials come from the environment (.env.example).
 */
export const SANDBOX_CREDENTIALS = {
  omie: { appKey: '1234567890', appSecret: 'sandbox-omie-secret' },
  trio: {
    clientId: 'sandbox-trio-client',
    clientSecret: 'sandbox-trio-secret',
    /** Echoed in `x-webhook-secret` on every webhook the rail posts. */
    webhookSecret: 'sandbox-trio-webhook-secret',
    /** Keys the uppercase-hex HMAC-SHA256 in `x-webhook-signature`. */
    webhookSigningKey: 'sandbox-trio-notification-key',
  },
  focus: { token: 'sandbox-focus-token' },
  zapi: { instanceId: '3E0SANDBOX0000000000000000000000', instanceToken: 'sandbox-instance-token', clientToken: 'sandbox-client-token' },
  anthropic: { apiKey: 'sandbox-anthropic-key' },
} as const;
