import type { Check } from '../doctor-model.js';

export const ok = (id: string, message: string): Check => ({ id, ok: true, message });
export const fail = (id: string, message: string, fix: string): Check => ({
  id,
  ok: false,
  message,
  fix,
});
