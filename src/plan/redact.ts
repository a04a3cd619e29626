// Hides every secret value in text meant for humans or logs (--dry-run, --verbose, error output).

import type { InstallSecrets } from '../spec/spec.js';

export const REDACTED = '<redacted>';

/**
 * Replaces every occurrence of every secret value with `<redacted>`, also in the encodings mreg
 * itself writes (URL-encoded inside DB_URI, JSON-escaped inside config.yaml). Longer values win
 * so a secret that contains another is hidden whole. Empty values are ignored.
 */
export function redact(text: string, secrets: InstallSecrets): string {
  const forms = new Set<string>();
  for (const value of Object.values(secrets) as string[]) {
    if (typeof value !== 'string' || value === '') continue;
    forms.add(value);
    forms.add(encodeURIComponent(value));
    forms.add(JSON.stringify(value).slice(1, -1));
  }
  if (forms.size === 0) return text;
  // One pass with an alternation, so a short secret never matches inside an earlier '<redacted>'.
  const pattern = [...forms].sort((a, b) => b.length - a.length)
    .map(f => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return text.replace(new RegExp(pattern, 'g'), REDACTED);
}
