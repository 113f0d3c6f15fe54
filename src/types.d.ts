// Text imports (`with { type: "text" }`) of non-code files embedded in the binary.
declare module "*.service" {
  const text: string;
  export default text;
}
declare module "*.toml" {
  const text: string;
  export default text;
}

// undici's own files, loaded one by one by src/net/undici.ts (it gives them their types).
declare module "undici/lib/dispatcher/agent.js" {
  const Agent: unknown;
  export default Agent;
}
declare module "undici/lib/dispatcher/dispatcher.js" {
  const Dispatcher: { prototype: object };
  export default Dispatcher;
}
declare module "undici/lib/api/index.js" {
  const api: object;
  export default api;
}
declare module "undici/lib/core/connect.js" {
  const buildConnector: unknown;
  export default buildConnector;
}
