// The process-wide set of secret values. Config loading registers every resolved secret
// here; the logger replaces any occurrence with "***" before a line is written. This is a
// second line of defence: no code path is meant to log a secret in the first place.

const secrets = new Set<string>();
// Short values would redact ordinary words ("on", "admin"); they are still never logged
// on purpose, but we do not scrub them from unrelated text.
const MIN_REDACT_LENGTH = 4;

export function registerSecret(value: string): void {
  if (value.length >= MIN_REDACT_LENGTH) secrets.add(value);
}

export function redactSecrets(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join("***");
    // A secret may reach JSON output escaped (quotes, backslashes).
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join("***");
  }
  return out;
}

/** For tests only. */
export function clearSecretsForTest(): void {
  secrets.clear();
}
