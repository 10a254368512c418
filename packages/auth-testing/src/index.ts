/**
 * A fake Cair Health auth server for tests, demos and examples: real HTTP on 127.0.0.1, fault injection and a
 * request log, usable as an Effect `Layer` or through `start()` / `stop()` Promises.
 *
 * @since 0.1.0
 */
export * as FakeCairServer from "./FakeCairServer.js"

/**
 * A real `redis-server` on a free loopback port for tests, demos and examples.
 *
 * @since 0.2.0
 */
export * as RedisServer from "./RedisServer.js"
