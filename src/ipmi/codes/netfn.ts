// Network function codes (request values; a response is the request netFn | 1).
export const NetFn = {
  chassis: 0x00,
  bridge: 0x02,
  sensorEvent: 0x04,
  app: 0x06,
  firmware: 0x08,
  storage: 0x0a,
  transport: 0x0c,
  groupExtension: 0x2c,
  oemGroup: 0x2e,
} as const;

export function responseNetFn(requestNetFn: number): number {
  return requestNetFn | 1;
}
