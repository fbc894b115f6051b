import type { Request, Response } from 'express';
import { z } from 'zod';

/** Parses a JSON body with `schema`; answers 400 with a readable message and returns null when it does not fit. */
export const parseBody = <T extends z.ZodType>(schema: T, req: Request, res: Response): z.infer<T> | null => {
  const r = schema.safeParse(req.body ?? {});
  if (r.success) return r.data;
  res.status(400).json({ error: 'invalid_input', message: r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') });
  return null;
};

/** A phone as staff should see it: area code and last four digits, the rest hidden ("(11) •••••-4321"). */
export function maskPhoneForStaff(phone: string | null): string {
  if (!phone) return 'WhatsApp @lid';
  const national = phone.startsWith('55') ? phone.slice(2) : phone;
  const ddd = national.slice(0, 2);
  const rest = national.slice(2);
  return `(${ddd}) ${'•'.repeat(Math.max(0, rest.length - 4))}-${rest.slice(-4)}`;
}
