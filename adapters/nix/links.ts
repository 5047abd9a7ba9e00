/**
 * Reading the system links of a NixOS host: the current-system link, the system profile, closure
 * naming (store path vs basename), and the critical-component comparison that decides between a
 * live switch and a switch at next boot.
 *
 * Invariant: nothing here writes; every read that fails is an Option.none (the callers decide
 * what an unreadable link means), never a defect.
 */
import { FileSystem } from "@effect/platform"
import { Effect, Option } from "effect"
import { posix } from "node:path"
import type { ClosureHash } from "../../src/domain/ids.js"
import type { ClosureForm, CriticalComponent, ResolvedNixConfig } from "./config.js"

/**
 * The store path of a closure given as a store path or as a basename; None when it does not name
 * a direct child of `storeDir` (`../x`, `a/b`, a path elsewhere), which no closure can be.
 */
export const storePathOf = (storeDir: string, closure: string): Option.Option<string> => {
  const path = closure.startsWith("/") ? posix.normalize(closure).replace(/\/+$/, "") : `${storeDir}/${closure}`
  const name = path.slice(storeDir.length + 1)
  return path.startsWith(`${storeDir}/`) && name !== "" && name !== "." && name !== ".." && !name.includes("/")
    ? Option.some(path)
    : Option.none()
}

/** A store path in the configured {@link ClosureForm}. */
export const closureIn = (form: ClosureForm, storePath: string): ClosureHash =>
  (form === "basename" ? posix.basename(storePath) : storePath) as ClosureHash

/** The target of a symlink as an absolute path (a relative target is taken from the link's directory). */
export const readLinkAbsolute = (link: string): Effect.Effect<Option.Option<string>, never, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readLink(link)).pipe(
    Effect.map((target) => Option.some(posix.resolve(posix.dirname(link), target))),
    Effect.orElseSucceed(() => Option.none<string>())
  )

/** A path with every symlink resolved; None when it does not exist. */
export const canonical = (path: string): Effect.Effect<Option.Option<string>, never, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.realPath(path)).pipe(
    Effect.map(Option.some),
    Effect.orElseSucceed(() => Option.none<string>())
  )

/** The store path the current-system link points at (one level, as `readlink`); None when unreadable. */
export const readCurrentSystem = (config: ResolvedNixConfig) => readLinkAbsolute(config.currentSystem)

/**
 * The store path the profile points at, two symlink levels down (profile → system-N-link → store
 * path, as spec §6.2 step 2); None when either level is unreadable.
 */
export const readProfileTarget = (config: ResolvedNixConfig): Effect.Effect<Option.Option<string>, never, FileSystem.FileSystem> =>
  Effect.flatMap(readLinkAbsolute(config.profile), Option.match({ onNone: () => Effect.succeedNone, onSome: readLinkAbsolute }))

/**
 * The first component (in `components` order) that exists in both closures and resolves to a
 * different path in each; None when no component differs.
 */
export const changedComponent = (
  components: ReadonlyArray<CriticalComponent>,
  running: string,
  target: string
): Effect.Effect<Option.Option<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    for (const component of components) {
      const before = yield* canonical(posix.join(running, component.path))
      const after = yield* canonical(posix.join(target, component.path))
      if (Option.isSome(before) && Option.isSome(after) && before.value !== after.value) return Option.some(component.name)
    }
    return Option.none<string>()
  })
