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

// A short secret ("pass", "admin1") also spells parts of ordinary words: masked inside
// "password" it would both mangle the line and give the secret away ("***word"). Below this
// length a secret is masked only where it stands alone (no letter or digit glued to it).
const WHOLE_TOKEN_BELOW = 12;
const ALNUM = /[A-Za-z0-9]/;

function maskAll(text: string, secret: string): string {
  if (!text.includes(secret)) return text;
  if (secret.length >= WHOLE_TOKEN_BELOW) return text.split(secret).join("***");
  let out = "";
  let from = 0;
  for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + 1)) {
    const end = at + secret.length;
    const glued = (ALNUM.test(secret[0] as string) && ALNUM.test(text[at - 1] ?? "")) || (ALNUM.test(secret[secret.length - 1] as string) && ALNUM.test(text[end] ?? ""));
    if (glued || at < from) continue;
    out += `${text.slice(from, at)}***`;
    from = end;
  }
  return out + text.slice(from);
}

export function redactSecrets(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const s of secrets) {
    out = maskAll(out, s);
    // A secret may reach JSON output escaped (quotes, backslashes).
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) out = maskAll(out, escaped);
  }
  return out;
}

/** For tests only. */
export function clearSecretsForTest(): void {
  secrets.clear();
}
