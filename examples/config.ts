/**
 * Configuration for the example programs: `--name value` / `--name=value` flags first, then
 * environment variables (`--db` ↔ `FLEET_DB` for the control plane; the agent uses its own
 * prefix), through Effect's ConfigProvider so every setting is an ordinary `Config`.
 *
 * Invariant: flags win over the environment; an unknown flag is kept (and ignored) rather than
 * guessed at.
 */
import { ConfigProvider } from "effect"

/** Parses `--key value` and `--key=value` pairs (a bare `--flag` means "true"). */
export const parseFlags = (argv: ReadonlyArray<string>): Map<string, string> => {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (!arg.startsWith("--")) continue
    const eq = arg.indexOf("=")
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1))
    else {
      const next = argv[i + 1]
      if (next !== undefined && !next.startsWith("--")) {
        flags.set(arg.slice(2), next)
        i++
      } else flags.set(arg.slice(2), "true")
    }
  }
  return flags
}

/**
 * A provider reading `--kebab-name` flags, then `PREFIX_SNAKE_NAME` variables. Config keys are
 * camelCase (`Config.string("manifestsDir")` ↔ `--manifests-dir` ↔ `FLEET_MANIFESTS_DIR`).
 */
export const flagsThenEnv = (argv: ReadonlyArray<string>, envPrefix: string): ConfigProvider.ConfigProvider => {
  const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
  const flags = parseFlags(argv)
  const fromFlags = ConfigProvider.fromMap(new Map([...flags].map(([k, v]) => [k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), v])))
  const fromEnv = ConfigProvider.fromEnv().pipe(
    ConfigProvider.mapInputPath((key) => `${envPrefix}_${kebab(key).replace(/-/g, "_").toUpperCase()}`)
  )
  return fromFlags.pipe(ConfigProvider.orElse(() => fromEnv))
}
