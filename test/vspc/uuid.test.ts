import { expect, test } from "bun:test";
import { canonicalUuid } from "../../src/vspc/uuid.ts";

const cases: [string, string | undefined][] = [
  ["50 1e 2f 3a 4b 5c 6d 7e-8f 90 a1 b2 c3 d4 e5 f6", "501e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"],
  ["501E2F3A-4B5C-6D7E-8F90-A1B2C3D4E5F6", "501e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"],
  ["501e2f3a4b5c6d7e8f90a1b2c3d4e5f6", "501e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"],
  ["50 1e 2f", undefined],
  ["zz1e2f3a4b5c6d7e8f90a1b2c3d4e5f6", undefined],
  ["", undefined],
];
for (const [raw, want] of cases) test(JSON.stringify(raw), () => expect(canonicalUuid(raw)).toBe(want));
