/**
 * The control plane's core, as one layer: the reducer fiber, the event-log writer and the
 * dispatch notifier, over Storage and EventLog.
 *
 * Invariant: every fiber of the CP is forked in this layer's scope; closing it interrupts them
 * all (the writer drains its queue first), so no fiber outlives the control plane.
 */
import { type Duration, Layer } from "effect"
import type { StorageError } from "../ports/errors.js"
import type { EventLog } from "../ports/eventLog.js"
import type { Storage } from "../ports/storage.js"
import { EventLogWriter } from "./eventLogWriter.js"
import { DispatchNotifier } from "./notifier.js"
import { CpReducer, layer as reducerLayer } from "./reducer.js"

/** Settings of the control plane core. */
export interface ControlPlaneConfig {
  /** The safety-net plan tick; default 15 s. */
  readonly planInterval?: Duration.DurationInput
  /** Reducer input queue capacity; default 1024. */
  readonly queueCapacity?: number
}

/** The CP core: {@link CpReducer}, {@link EventLogWriter} and {@link DispatchNotifier}, over Storage + EventLog. */
export const layer = (
  config: ControlPlaneConfig = {}
): Layer.Layer<CpReducer | EventLogWriter | DispatchNotifier, StorageError, Storage | EventLog> =>
  reducerLayer({
    planInterval: config.planInterval ?? "15 seconds",
    ...(config.queueCapacity === undefined ? {} : { queueCapacity: config.queueCapacity })
  }).pipe(Layer.provideMerge(EventLogWriter.layer), Layer.provideMerge(DispatchNotifier.layer))
