// How users write a vSphere endpoint: "https://vcsa/sdk", "https://vcsa", "vcsa:8443", "vcsa/sdk".
// vim25 always lives at /sdk, so a missing scheme means https and a missing path means /sdk.

export function normalizeEndpointUrl(input: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `https://${input}`;
  const u = new URL(withScheme);
  if (u.pathname === "" || u.pathname === "/") u.pathname = "/sdk";
  return u.toString();
}
