// A deterministic datagram mutator for fuzzing the decoder and the request handler: golden
// vectors and checklist cases, bit-flipped, truncated, extended, spliced, with the header
// length patched back so the mutation reaches body parsing, plus plain random bytes.
import { fromHex } from "../../../src/slp/wire/index.ts";
import { VECTORS } from "../../slp/fixtures/vectors.ts";
import { attrRqst, CHECKLIST, srvRqst, srvTypeRqst } from "./requests.ts";

/** xorshift32: fast, seedable, good enough to spread mutations. */
export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
}

export function seeds(): Uint8Array[] {
  return [
    ...VECTORS.map((v) => fromHex(v.hex)),
    ...CHECKLIST.map((c) => c.bytes).filter((b) => b.length > 0),
    srvRqst({ predicate: "(&(Namespace=lsi/lsimr13)(|(x=1)(!(y>=2))(z=a*b*c)))" }),
    srvRqst({ flags: 0x2000, prList: "10.0.0.1,127.0.0.1", type: "service:service-agent", scopes: "" }),
    attrRqst({ url: "service:wbem:https://esxi-main.example.jp:5989", tags: "Name*,Classinfo" }),
    srvTypeRqst({ na: "" }),
  ];
}

const INTERESTING = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0x28, 0x29, 0x2c, 0x5c, 0x2a, 0x3d];

function fixLength(b: Uint8Array): Uint8Array {
  if (b.length >= 5) {
    b[2] = (b.length >> 16) & 0xff;
    b[3] = (b.length >> 8) & 0xff;
    b[4] = b.length & 0xff;
  }
  return b;
}

export function mutate(rng: Rng, pool: readonly Uint8Array[]): Uint8Array {
  const kind = rng.int(10);
  if (kind === 0) {
    const n = rng.int(1500);
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = rng.int(256);
    if (n > 1 && rng.int(2) === 0) b[0] = 2;
    return b;
  }
  const src = pool[rng.int(pool.length)]!;
  let b: Uint8Array = Uint8Array.from(src);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    switch (rng.int(7)) {
      case 0: // bit flip
        if (b.length > 0) b[rng.int(b.length)]! ^= 1 << rng.int(8);
        break;
      case 1: // interesting byte
        if (b.length > 0) b[rng.int(b.length)] = INTERESTING[rng.int(INTERESTING.length)]!;
        break;
      case 2: // truncate
        b = b.subarray(0, rng.int(b.length + 1));
        break;
      case 3: {
        // append junk
        const extra = new Uint8Array(rng.int(64));
        for (let i = 0; i < extra.length; i++) extra[i] = rng.int(256);
        const c = new Uint8Array(b.length + extra.length);
        c.set(b);
        c.set(extra, b.length);
        b = c;
        break;
      }
      case 4: {
        // splice with another seed
        const o = pool[rng.int(pool.length)]!;
        const cut = rng.int(b.length + 1);
        const from = rng.int(o.length + 1);
        const c = new Uint8Array(cut + (o.length - from));
        c.set(b.subarray(0, cut));
        c.set(o.subarray(from), cut);
        b = c;
        break;
      }
      case 5: // a 16-bit length field somewhere set to a random value
        if (b.length > 17) {
          const at = 12 + rng.int(b.length - 13);
          b[at] = rng.int(256);
          b[at + 1] = rng.int(256);
        }
        break;
      case 6: // extension offset
        if (b.length > 10) {
          b[7] = 0;
          b[8] = rng.int(2) ? 0 : rng.int(256);
          b[9] = rng.int(256);
        }
        break;
    }
  }
  // Most of the time keep the header length right, so the body parser is what gets tested.
  return rng.int(4) === 0 ? b : fixLength(b);
}
