/**
 * Rollout-id discriminators: the CP route validator for requested ids, and the check that a
 * verified manifest declares exactly the id it was requested under.
 *
 * Invariant: a manifest is only ever stored or used under `makeRolloutId(m.channel, m.channelRef)`;
 * a request that is not `channel@ref` with channel `[a-z0-9_-]+` and a lowercase-hex ref (for
 * example a legacy bare 64-hex content hash) is refused.
 */
import { Either, Schema } from "effect"
import { type ChannelId, type ChannelRef, makeRolloutId, type RolloutId } from "../domain/ids.js"
import { RolloutIdMismatch } from "./errors.js"

/** The CP route shape of a rollout id: `channel@ref`, channel `[a-z0-9_-]+`, ref lowercase hex. */
export const ROLLOUT_ID_ROUTE = /^([a-z0-9_-]+)@([0-9a-f]+)$/

/** A requested rollout id the route validator refused (the route answers 400 with it). */
export class InvalidRolloutIdRoute extends Schema.TaggedError<InvalidRolloutIdRoute>()("InvalidRolloutIdRoute", {
  requested: Schema.String
}) {
  /** The message of this error. */
  override get message(): string {
    return `invalid rollout id ${JSON.stringify(this.requested)}: expected channel@ref with channel [a-z0-9_-]+ and a lowercase hex ref`
  }
}

/**
 * Validates a rollout id taken from a URL. Returns the branded id, or the refusal (the route then
 * answers 400).
 */
export const parseRolloutIdRoute = (text: string): Either.Either<RolloutId, InvalidRolloutIdRoute> =>
  ROLLOUT_ID_ROUTE.test(text)
    ? Either.right(text as RolloutId)
    : Either.left(new InvalidRolloutIdRoute({ requested: text }))

/**
 * Requires that the id a manifest declares (`channel@channelRef`) equals the requested id;
 * otherwise {@link RolloutIdMismatch}, whose message names both ids.
 */
export const checkRolloutIdDiscriminator = (
  channel: ChannelId | string,
  channelRef: ChannelRef | string,
  requested: string
): Either.Either<RolloutId, RolloutIdMismatch> => {
  const declared = makeRolloutId(channel as ChannelId, channelRef as ChannelRef)
  return declared === requested ? Either.right(declared) : Either.left(new RolloutIdMismatch({ requested, declared }))
}
