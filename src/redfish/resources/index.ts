// The route table of the Redfish service.
import type { Route } from "../context.ts";
import { managerRoutes } from "./managers.ts";
import { mediaRoutes } from "./media.ts";
import { rootRoutes } from "./root.ts";
import { sessionRoutes } from "./sessions.ts";
import { systemRoutes } from "./systems.ts";
import { taskRoutes } from "./tasks.ts";

export const routes: Route[] = [...rootRoutes, ...sessionRoutes, ...systemRoutes, ...managerRoutes, ...mediaRoutes, ...taskRoutes];
