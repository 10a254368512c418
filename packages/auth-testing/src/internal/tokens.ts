import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { randomBytes } from "node:crypto"
import type { Lifetimes } from "../FakeCairServer.js"

/** @internal */
export interface TokenSet {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresAt: Date
  readonly refreshTokenExpiresAt: Date
}

/** @internal */
export interface Tokens {
  readonly issue: Effect.Effect<TokenSet>
  /** Uses up `refreshToken` and issues a new set, or `None` if it is unknown, used or expired. */
  readonly rotate: (refreshToken: string) => Effect.Effect<Option.Option<TokenSet>>
  readonly isValid: (accessToken: string) => Effect.Effect<boolean>
  readonly revokeAccessTokens: Effect.Effect<void>
  readonly revokeAll: Effect.Effect<void>
  readonly setLifetimes: (lifetimes: Lifetimes) => Effect.Effect<void>
}

/** Token lifetimes in milliseconds. @internal */
export interface Ttls {
  readonly accessTokenTtlMs: number
  readonly refreshTokenTtlMs: number
}

/** When true, the token sets issued by this fiber have an access token that has already expired. @internal */
export const issueExpired: FiberRef.FiberRef<boolean> = FiberRef.unsafeMake(false)

interface State {
  readonly issued: number
  readonly accessTokens: HashMap.HashMap<string, number>
  readonly refreshTokens: HashMap.HashMap<string, number>
  readonly lifetimes: Ttls
}

const issueAt = (state: State, now: number, salt: string, expired: boolean): readonly [TokenSet, State] => {
  const n = state.issued + 1
  const tokenSet: TokenSet = {
    accessToken: `fake-at-${n}-${salt}`,
    refreshToken: `fake-rt-${n}-${salt}`,
    expiresAt: new Date(expired ? now - 1000 : now + state.lifetimes.accessTokenTtlMs),
    refreshTokenExpiresAt: new Date(now + state.lifetimes.refreshTokenTtlMs)
  }
  return [tokenSet, {
    ...state,
    issued: n,
    accessTokens: HashMap.set(state.accessTokens, tokenSet.accessToken, tokenSet.expiresAt.getTime()),
    refreshTokens: HashMap.set(state.refreshTokens, tokenSet.refreshToken, tokenSet.refreshTokenExpiresAt.getTime())
  }]
}

/** @internal */
export const make = (now: Effect.Effect<number>, lifetimes: Ttls): Effect.Effect<Tokens> =>
  Effect.map(
    Ref.make<State>({ issued: 0, accessTokens: HashMap.empty(), refreshTokens: HashMap.empty(), lifetimes }),
    (ref) => {
      const withIssueContext = <A>(f: (now: number, salt: string, expired: boolean) => Effect.Effect<A>) =>
        Effect.flatMap(
          Effect.all([now, Effect.sync(() => randomBytes(6).toString("hex")), FiberRef.get(issueExpired)]),
          ([now, salt, expired]) => f(now, salt, expired)
        )
      return {
        issue: withIssueContext((now, salt, expired) => Ref.modify(ref, (state) => issueAt(state, now, salt, expired))),
        rotate: (refreshToken) =>
          withIssueContext((now, salt, expired) =>
            Ref.modify(ref, (state) => {
              const usable = Option.exists(HashMap.get(state.refreshTokens, refreshToken), (until) => until > now)
              if (!usable) {
                return [Option.none(), state] as const
              }
              const refreshTokens = HashMap.remove(state.refreshTokens, refreshToken)
              const [tokenSet, next] = issueAt({ ...state, refreshTokens }, now, salt, expired)
              return [Option.some(tokenSet), next] as const
            })
          ),
        isValid: (accessToken) =>
          Effect.flatMap(now, (now) =>
            Effect.map(
              Ref.get(ref),
              (state) => Option.exists(HashMap.get(state.accessTokens, accessToken), (until) => until > now)
            )),
        revokeAccessTokens: Ref.update(ref, (state) => ({ ...state, accessTokens: HashMap.empty() })),
        revokeAll: Ref.update(
          ref,
          (state) => ({ ...state, accessTokens: HashMap.empty(), refreshTokens: HashMap.empty() })
        ),
        setLifetimes: (lifetimes) =>
          Ref.update(ref, (state) => ({
            ...state,
            lifetimes: {
              accessTokenTtlMs: lifetimes.accessTokenTtlMs ?? state.lifetimes.accessTokenTtlMs,
              refreshTokenTtlMs: lifetimes.refreshTokenTtlMs ?? state.lifetimes.refreshTokenTtlMs
            }
          }))
      }
    }
  )
