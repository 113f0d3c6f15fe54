// Matches a request path against the route table. Segments are percent-decoded once; one
// that decodes to a slash, a dot segment or a control character matches nothing (404), so
// nothing a client sends can reach outside the table.
import type { Route } from "./context.ts";

export interface Match {
  route: Route;
  params: Record<string, string>;
}

function decodeSegments(path: string): string[] | undefined {
  const out: string[] = [];
  for (const raw of path.split("/").slice(1)) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (s === "." || s === ".." || s.includes("/") || /[\u0000-\u001f\u007f]/.test(s) || s.length > 256) return undefined;
    out.push(s);
  }
  return out;
}

export class Router {
  readonly #routes: Array<{ route: Route; parts: string[] }>;
  constructor(routes: Route[]) {
    this.#routes = routes.map((route) => ({ route, parts: route.pattern.split("/").slice(1) }));
  }

  match(path: string): Match | undefined {
    // "/redfish/v1/" and "/redfish/v1" are the same resource.
    const normal = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
    const segs = decodeSegments(normal);
    if (!segs) return undefined;
    for (const { route, parts } of this.#routes) {
      if (parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const p = parts[i] as string;
        const s = segs[i] as string;
        if (p.startsWith(":")) params[p.slice(1)] = s;
        else ok = p === s;
      }
      if (ok) return { route, params };
    }
    return undefined;
  }
}
