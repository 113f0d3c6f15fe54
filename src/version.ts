// The release version, bundled from package.json so the compiled binary carries it.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
