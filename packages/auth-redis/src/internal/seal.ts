import type { TokenStore } from "@cair/auth"
import { TokenSet } from "@cair/auth/TokenSet"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto"

/** What a sealed entry holds: the token set and the local times of its exchange. */
const Payload = Schema.parseJson(Schema.Struct({
  tokens: TokenSet,
  sentAt: Schema.Number,
  receivedAt: Schema.Number,
  serverDate: Schema.NullOr(Schema.Number)
}))

const encodePayload = Schema.encodeSync(Payload)
const decodePayload = Schema.decodeUnknownEither(Payload)

const salt = "cair-auth-redis/v1"
const format = "v1"

/**
 * The keys of one client, derived from its secret with HKDF-SHA-256: one to seal its entries
 * (AES-256-GCM) and one to name its keys. Only holders of the secret can read an entry or even tell
 * which client a key belongs to; another id, or the same id at another base URL, derives other keys.
 *
 * @internal
 */
export interface Sealer {
  /** Names the client in Redis keys: 32 hex digits of an HMAC of its id and base URL. */
  readonly slotId: string
  readonly seal: (stored: TokenStore.StoredTokenSet, context: string) => string
  /** `undefined` when `sealed` was not sealed by this client for `context`, or was tampered with. */
  readonly unseal: (sealed: string, context: string) => TokenStore.StoredTokenSet | undefined
}

/** @internal */
export const makeSealer = (
  client: { readonly clientId: string; readonly baseUrl: string },
  secret: Redacted.Redacted<string>
): Sealer => {
  const ikm = Buffer.from(Redacted.value(secret), "utf8")
  const identity = JSON.stringify([client.clientId, client.baseUrl])
  const derive = (purpose: string) => Buffer.from(hkdfSync("sha256", ikm, salt, `${purpose}\0${identity}`, 32))
  const sealKey = derive("seal")
  const slotId = createHmac("sha256", derive("name")).update(identity).digest("hex").slice(0, 32)
  return {
    slotId,
    seal: (stored, context) => {
      const iv = randomBytes(12)
      const cipher = createCipheriv("aes-256-gcm", sealKey, iv)
      cipher.setAAD(Buffer.from(context, "utf8"))
      const plaintext = encodePayload({ ...stored, serverDate: stored.serverDate ?? null })
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
      return `${format}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64")}`
    },
    unseal: (sealed, context) => {
      if (!sealed.startsWith(`${format}.`)) return undefined
      const bytes = Buffer.from(sealed.slice(format.length + 1), "base64")
      if (bytes.length < 12 + 16 + 1) return undefined
      try {
        const decipher = createDecipheriv("aes-256-gcm", sealKey, bytes.subarray(0, 12))
        decipher.setAAD(Buffer.from(context, "utf8"))
        decipher.setAuthTag(bytes.subarray(bytes.length - 16))
        const plaintext = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()])
        return Either.match(decodePayload(plaintext.toString("utf8")), {
          onLeft: () => undefined,
          onRight: (payload) => ({ ...payload, serverDate: payload.serverDate ?? undefined })
        })
      } catch {
        return undefined
      }
    }
  }
}
