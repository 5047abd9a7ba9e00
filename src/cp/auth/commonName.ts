/**
 * Host identity from a client certificate's common name: `agent-<machineId>.<suffix>` names the
 * host `<machineId>`; any other (bare) CN is the hostname itself (spec §1.1).
 *
 * Invariant: pure; the result is never empty (an empty CN or machine id yields null).
 */
import type { HostId } from "../../domain/ids.js"

/** The reference's default identity suffix. */
export const DEFAULT_IDENTITY_SUFFIX = "fleet.lab.internal"

/** The hostname a certificate CN proves, or null when the CN is empty or its machine id is. */
export const hostnameFromCommonName = (cn: string, suffix: string = DEFAULT_IDENTITY_SUFFIX): HostId | null => {
  const trimmed = cn.trim()
  const prefix = "agent-"
  const tail = `.${suffix}`
  const host =
    trimmed.startsWith(prefix) && trimmed.endsWith(tail) ? trimmed.slice(prefix.length, trimmed.length - tail.length) : trimmed
  return host === "" ? null : (host as HostId)
}
