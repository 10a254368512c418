/**
 * `pnpm --filter @cair/example-observability start`: the run of `program.ts`, then its spans and metrics printed.
 * Exits by itself.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { main } from "./program.js"

NodeRuntime.runMain(main)
