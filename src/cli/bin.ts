#!/usr/bin/env node
/**
 * The `effect-fleet` executable: runs the operator CLI on Node.
 *
 * Invariant: the only entry point that touches process argv and exit codes.
 */
import { Command } from "@effect/cli"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { cli } from "./commands.js"

const run = Command.run(cli, { name: "effect-fleet", version: "0.1.0" })

run(process.argv).pipe(Effect.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici)), NodeRuntime.runMain)
