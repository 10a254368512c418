import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TokenStore from "../src/TokenStore.js"
import * as TokenStoreConformance from "../src/TokenStoreConformance.js"

describe("TokenStore.layerMemory keeps the store contract", () => {
  for (const c of TokenStoreConformance.cases) {
    it.live(c.name, () => c.run.pipe(Effect.scoped, Effect.provide(TokenStore.layerMemory)), 60_000)
  }
})
