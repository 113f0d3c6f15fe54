// Secret references: `env:NAME`, `file:PATH` (first line), `credential:NAME`
// ($CREDENTIALS_DIRECTORY/NAME, systemd LoadCredential=). Anything else is the value itself.
// Resolved values are registered with the log redactor; errors name the reference, never a value.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { SecretError } from "../errors.ts";
import { registerSecret } from "../log/secrets.ts";

export type SecretKind = "env" | "file" | "credential" | "inline";

export function secretKind(ref: string): SecretKind {
  if (ref.startsWith("env:")) return "env";
  if (ref.startsWith("file:")) return "file";
  if (ref.startsWith("credential:")) return "credential";
  return "inline";
}

function firstLine(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new SecretError(`${what}: cannot read ${path} (${code})`, { cause: err });
  }
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  if (line === "") throw new SecretError(text.trim() === "" ? `${what}: ${path} is empty` : `${what}: ${path}: its first line is empty (the secret is the first line)`);
  return line;
}

export interface SecretContext {
  /** Directory that relative file: paths are resolved against (the config file's). */
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Checks a reference's form (env:NAME, file:PATH, credential:NAME) without reading anything. */
export function checkSecretRef(ref: string): void {
  switch (secretKind(ref)) {
    case "env":
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(ref.slice(4))) throw new SecretError(`${ref}: expected env:NAME with a variable name after "env:"`);
      break;
    case "file":
      if (ref.slice(5) === "") throw new SecretError(`${ref}: expected file:PATH with a path after "file:"`);
      break;
    case "credential": {
      const name = ref.slice(11);
      if (name.includes("/") || name === "" || name === "." || name === "..") throw new SecretError(`${ref}: not a valid credential name`);
      break;
    }
    default:
  }
}

/** Resolves a secret reference to its value. Throws SecretError naming the reference. */
export function resolveSecret(ref: string, ctx: SecretContext = {}): string {
  checkSecretRef(ref);
  const env = ctx.env ?? process.env;
  let value: string;
  switch (secretKind(ref)) {
    case "env": {
      const name = ref.slice(4);
      const v = env[name];
      if (v === undefined || v === "") throw new SecretError(`${ref}: environment variable ${name} is not set`);
      value = v;
      break;
    }
    case "file": {
      const p = ref.slice(5);
      value = firstLine(isAbsolute(p) || !ctx.baseDir ? p : resolve(ctx.baseDir, p), ref);
      break;
    }
    case "credential": {
      const name = ref.slice(11);
      const dir = env.CREDENTIALS_DIRECTORY;
      if (!dir) throw new SecretError(`${ref}: $CREDENTIALS_DIRECTORY is not set (systemd LoadCredential=${name}:… provides it)`);
      value = firstLine(resolve(dir, name), ref);
      break;
    }
    default:
      value = ref;
  }
  registerSecret(value);
  return value;
}
