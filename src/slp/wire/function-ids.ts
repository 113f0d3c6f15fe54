// SLPv2 function IDs (RFC 2608 §8).
export const FunctionId = {
  SrvRqst: 1,
  SrvRply: 2,
  SrvReg: 3,
  SrvDeReg: 4,
  SrvAck: 5,
  AttrRqst: 6,
  AttrRply: 7,
  DAAdvert: 8,
  SrvTypeRqst: 9,
  SrvTypeRply: 10,
  SAAdvert: 11,
} as const;

export type FunctionIdName = keyof typeof FunctionId;

const NAMES = new Map<number, FunctionIdName>(Object.entries(FunctionId).map(([k, v]) => [v, k as FunctionIdName]));

/** "SrvRqst", … or "fn<N>" for an ID RFC 2608 does not define (used as a metric label). */
export function functionName(id: number): string {
  return NAMES.get(id) ?? `fn${id}`;
}

/** The reply function for each request this responder answers. */
export const REPLY_FOR: Readonly<Record<number, number>> = {
  [FunctionId.SrvRqst]: FunctionId.SrvRply,
  [FunctionId.AttrRqst]: FunctionId.AttrRply,
  [FunctionId.SrvTypeRqst]: FunctionId.SrvTypeRply,
};
