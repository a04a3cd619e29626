// Hides every secret value in text meant for humans or logs (--dry-run, --verbose, error output).

import type { InstallSecrets, InstallSpec } from '../install-spec/spec.js';

export const REDACTED = '<redacted>';

/**
 * Replaces every occurrence of every secret value with `<redacted>`, also in the encodings mreg
 * itself writes (URL-encoded inside DB_URI, JSON-escaped inside config.yaml). Longer values win
 * so a secret that contains another is hidden whole. Empty values are ignored.
 */
export function redact(text: string, secrets: InstallSecrets, spec?: InstallSpec): string {
  const forms = new Set<string>();
  const s3 = spec?.quayStorage.kind === 's3' && spec.quayStorage.keys ? [spec.quayStorage.keys.accessKey, spec.quayStorage.keys.secretKey] : [];
  for (const value of [...Object.values(secrets), ...s3] as string[]) {
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
