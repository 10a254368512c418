/**
 * @since 0.1.0
 */
export * as CairAuth from "./CairAuth.js"

/**
 * @since 0.1.0
 */
export * as CairAuthError from "./CairAuthError.js"

/**
 * @since 0.1.0
 */
export * as CairAuthMap from "./CairAuthMap.js"

/**
 * @since 0.1.0
 */
export * as CairAuthMetrics from "./CairAuthMetrics.js"

/**
 * @since 0.1.0
 */
export * as CairAuthTest from "./CairAuthTest.js"

/**
 * @since 0.1.0
 */
export * as CairHttpClient from "./CairHttpClient.js"

/**
 * @since 0.1.0
 */
export * as ErrorMessage from "./ErrorMessage.js"

/**
 * @since 0.1.0
 */
export * as TokenEndpoint from "./TokenEndpoint.js"

/**
 * @since 0.1.0
 */
export * as TokenEvent from "./TokenEvent.js"

/**
 * @since 0.1.0
 */
export * as TokenScope from "./TokenScope.js"

/**
 * @since 0.1.0
 */
export * as TokenSet from "./TokenSet.js"

/**
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"

/**
 * @since 0.2.0
 */
export * as TokenStoreConformance from "./TokenStoreConformance.js"
