// IPMI cryptography: RAKP HMACs and key derivation, RMCP+ integrity (HMAC-SHA1-96,
// HMAC-SHA256-128), AES-CBC-128 confidentiality, IPMI 1.5 MD5 auth codes.
// Hashes and HMACs use Bun's native hasher: a third faster per call than node:crypto's, and
// loading node:crypto costs a CLI start more than a whole hello world (about 6 M instructions).
// Only AES needs node:crypto, so it is loaded at the first encrypted payload.
import { IpmiDecodeError } from "../errors.ts";
import { AuthAlg, IntegrityAlg } from "./codes/cipher-suites.ts";

type Hash = "sha1" | "sha256";

export function hmac(hash: Hash, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = new Bun.CryptoHasher(hash, key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

let nodeCrypto: typeof import("node:crypto") | undefined;
const aes = () => (nodeCrypto ??= require("node:crypto") as typeof import("node:crypto"));

export function random(n: number): Uint8Array {
  // The Web Crypto CSPRNG: the same kernel source as randomBytes, a fifth of the cost per call (one per sealed reply).
  return crypto.getRandomValues(new Uint8Array(n));
}

/** The HMAC hash behind a RAKP authentication algorithm; undefined for RAKP-none. */
export function rakpHash(authAlg: number): Hash | undefined {
  if (authAlg === AuthAlg.hmacSha1) return "sha1";
  if (authAlg === AuthAlg.hmacSha256) return "sha256";
  return undefined;
}

/** RAKP4 Integrity Check Value length: HMAC-SHA1-96 → 12, HMAC-SHA256-128 → 16. */
export function rakp4IcvLength(authAlg: number): number {
  return authAlg === AuthAlg.hmacSha256 ? 16 : authAlg === AuthAlg.hmacSha1 ? 12 : 0;
}

/** A user's key Kuid: the password as bytes, zero-padded to 20. */
export function userKey(password: string): Uint8Array {
  const out = new Uint8Array(20);
  out.set(new TextEncoder().encode(password).subarray(0, 20));
  return out;
}

/** The fields RAKP2/RAKP3/SIK HMACs are computed over. */
export interface RakpContext {
  consoleSessionId: number;
  bmcSessionId: number;
  consoleRandom: Uint8Array;
  bmcRandom: Uint8Array;
  bmcGuid: Uint8Array;
  /** The full role byte from RAKP1. */
  role: number;
  username: Uint8Array;
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  b[0] = v & 0xff;
  b[1] = (v >>> 8) & 0xff;
  b[2] = (v >>> 16) & 0xff;
  b[3] = (v >>> 24) & 0xff;
  return b;
}

function roleAndName(c: RakpContext): Uint8Array {
  const b = new Uint8Array(2 + c.username.length);
  b[0] = c.role;
  b[1] = c.username.length;
  b.set(c.username, 2);
  return b;
}

/** RAKP2 Key Exchange Authentication Code: HMAC_Kuid(SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENm, UNAMEm). */
export function rakp2AuthCode(hash: Hash, kuid: Uint8Array, c: RakpContext): Uint8Array {
  return hmac(hash, kuid, u32(c.consoleSessionId), u32(c.bmcSessionId), c.consoleRandom, c.bmcRandom, c.bmcGuid, roleAndName(c));
}

/** RAKP3 Key Exchange Authentication Code: HMAC_Kuid(Rc, SIDm, ROLEm, ULENm, UNAMEm). */
export function rakp3AuthCode(hash: Hash, kuid: Uint8Array, c: RakpContext): Uint8Array {
  return hmac(hash, kuid, c.bmcRandom, u32(c.consoleSessionId), roleAndName(c));
}

/** Session Integrity Key: HMAC_Kg(Rm, Rc, ROLEm, ULENm, UNAMEm); Kg = Kuid when no BMC key is set. */
export function sessionIntegrityKey(hash: Hash, kg: Uint8Array, c: RakpContext): Uint8Array {
  return hmac(hash, kg, c.consoleRandom, c.bmcRandom, roleAndName(c));
}

/** RAKP4 Integrity Check Value: HMAC_SIK(Rm, SIDc, GUIDc), truncated. */
export function rakp4Icv(hash: Hash, sik: Uint8Array, c: RakpContext, length: number): Uint8Array {
  return hmac(hash, sik, c.consoleRandom, u32(c.bmcSessionId), c.bmcGuid).slice(0, length);
}

// Additional keying material: HMAC_SIK over a 20-byte constant of 0x01 (K1) or 0x02 (K2),
// the same 20-byte constants for the SHA-256 suites (what ipmitool and freeipmi do).
const CONST1 = new Uint8Array(20).fill(0x01);
const CONST2 = new Uint8Array(20).fill(0x02);

export interface SessionKeys {
  sik: Uint8Array;
  /** Integrity key. */
  k1: Uint8Array;
  /** K2; its first 16 bytes are the AES-128 key. */
  k2: Uint8Array;
}

export function deriveSessionKeys(hash: Hash, kg: Uint8Array, c: RakpContext): SessionKeys {
  const sik = sessionIntegrityKey(hash, kg, c);
  return { sik, k1: hmac(hash, sik, CONST1), k2: hmac(hash, sik, CONST2) };
}

/**
 * The RAKP computations of one authentication algorithm, the same on both ends of the exchange.
 * Under RAKP-none (`keyed` false) every code and key is empty.
 */
export interface RakpAuth {
  keyed: boolean;
  rakp2Code(kuid: Uint8Array, c: RakpContext): Uint8Array;
  rakp3Code(kuid: Uint8Array, c: RakpContext): Uint8Array;
  sessionKeys(kg: Uint8Array, c: RakpContext): SessionKeys;
  rakp4Icv(sik: Uint8Array, c: RakpContext): Uint8Array;
}

export function rakpAuth(authAlg: number): RakpAuth {
  const hash = rakpHash(authAlg);
  const none = () => new Uint8Array(0);
  if (!hash) return { keyed: false, rakp2Code: none, rakp3Code: none, sessionKeys: () => ({ sik: none(), k1: none(), k2: none() }), rakp4Icv: none };
  const icvLength = rakp4IcvLength(authAlg);
  return {
    keyed: true,
    rakp2Code: (kuid, c) => rakp2AuthCode(hash, kuid, c),
    rakp3Code: (kuid, c) => rakp3AuthCode(hash, kuid, c),
    sessionKeys: (kg, c) => deriveSessionKeys(hash, kg, c),
    rakp4Icv: (sik, c) => rakp4Icv(hash, sik, c, icvLength),
  };
}

/** AuthCode length of an RMCP+ integrity algorithm (0 for none). */
export function integrityCodeLength(alg: number): number {
  if (alg === IntegrityAlg.hmacSha1_96) return 12;
  if (alg === IntegrityAlg.hmacSha256_128) return 16;
  return 0;
}

export function integrityCode(alg: number, k1: Uint8Array, data: Uint8Array): Uint8Array {
  if (alg === IntegrityAlg.hmacSha1_96) return hmac("sha1", k1, data).slice(0, 12);
  if (alg === IntegrityAlg.hmacSha256_128) return hmac("sha256", k1, data).slice(0, 16);
  throw new RangeError(`integrity algorithm ${alg} is not supported`);
}

/** AES-CBC-128 payload: IV(16) ‖ E(payload ‖ 01 02 … n ‖ n), a multiple of 16 bytes after the IV. */
export function aesEncrypt(k2: Uint8Array, payload: Uint8Array, iv: Uint8Array = random(16)): Uint8Array {
  const padLen = (16 - ((payload.length + 1) % 16)) % 16;
  const plain = new Uint8Array(payload.length + padLen + 1);
  plain.set(payload);
  for (let i = 0; i < padLen; i++) plain[payload.length + i] = i + 1;
  plain[plain.length - 1] = padLen;
  const cipher = aes().createCipheriv("aes-128-cbc", k2.subarray(0, 16), iv);
  cipher.setAutoPadding(false);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  const out = new Uint8Array(16 + body.length);
  out.set(iv);
  out.set(body, 16);
  return out;
}

export function aesDecrypt(k2: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length < 32 || data.length % 16 !== 0) {
    throw new IpmiDecodeError(`AES-CBC-128 payload: length ${data.length} is not IV + a multiple of 16`);
  }
  const decipher = aes().createDecipheriv("aes-128-cbc", k2.subarray(0, 16), data.subarray(0, 16));
  decipher.setAutoPadding(false);
  const plain = new Uint8Array(Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]));
  const padLen = plain[plain.length - 1]!;
  if (padLen > 15 || padLen + 1 > plain.length) throw new IpmiDecodeError(`AES-CBC-128 payload: pad length ${padLen} is invalid`);
  const end = plain.length - 1 - padLen;
  for (let i = 0; i < padLen; i++) {
    if (plain[end + i] !== i + 1) throw new IpmiDecodeError("AES-CBC-128 payload: confidentiality pad bytes are invalid");
  }
  return plain.slice(0, end);
}

/** A password as the 16-byte IPMI 1.5 form (zero-padded, truncated). */
export function password16(password: string): Uint8Array {
  const out = new Uint8Array(16);
  out.set(new TextEncoder().encode(password).subarray(0, 16));
  return out;
}

/** IPMI 1.5 MD5 AuthCode: MD5(password ‖ session id ‖ message ‖ session seq ‖ password). */
export function md5AuthCode(pw16: Uint8Array, sessionId: number, message: Uint8Array, sequence: number): Uint8Array {
  const h = new Bun.CryptoHasher("md5");
  for (const part of [pw16, u32(sessionId), message, u32(sequence), pw16]) h.update(part);
  return new Uint8Array(h.digest());
}
