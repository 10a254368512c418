#!/usr/bin/env node
/**
 * The `cair-auth` command. Exits by itself with the code of `ExitCode` once the command is done: it never calls
 * `process.exit` on success, so a timer or socket left open would show as a hang (the tests check it does not).
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { createRequire } from "node:module"
import * as Cli from "./internal/cli.js"
import { ExitCode } from "./internal/exitCode.js"
import * as Settings from "./internal/settings.js"

const { version } = createRequire(import.meta.url)("@cair/auth-cli/package.json") as { readonly version: string }

Cli.run(process.argv, version).pipe(
  Effect.provide(Layer.merge(NodeContext.layer, Settings.layerProcess)),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => {
      if (Exit.isSuccess(exit)) {
        process.exitCode = exit.value as number
        onExit(0)
      } else {
        onExit(Exit.isInterrupted(exit) ? 130 : ExitCode.unexpected)
      }
    }
  })
)
