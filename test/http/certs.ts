/**
 * Test PKI for the mTLS tests, made with the `openssl` CLI in a temporary directory: a client CA,
 * a server certificate for 127.0.0.1, agent client certificates, and a certificate from a rogue CA.
 *
 * Invariant: generated fresh per test file; keys never leave the temporary directory.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** PEM strings of one key pair and certificate. */
export interface Pem {
  readonly cert: string
  readonly key: string
}

/** The test PKI. */
export interface TestPki {
  readonly dir: string
  readonly caPath: string
  readonly ca: string
  readonly serverCertPath: string
  readonly serverKeyPath: string
  /** Issues a client certificate for `cn`, signed by the client CA (or by the rogue CA). */
  readonly client: (cn: string, options?: { readonly rogue?: boolean }) => Pem
}

const openssl = (dir: string, args: ReadonlyArray<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })

const newKeyAndCsr = (dir: string, name: string, cn: string) =>
  openssl(dir, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`])

const selfSignedCa = (dir: string, name: string) =>
  openssl(dir, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=${name}`])

let serial = 1000

const sign = (dir: string, name: string, ca: string, extfile?: string) =>
  openssl(dir, [
    "x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-set_serial", String(serial++), "-out", `${name}.crt`, "-days", "2",
    ...(extfile === undefined ? [] : ["-extfile", extfile])
  ])

/** Creates the PKI (requires `openssl` on PATH). */
export const makeTestPki = (): TestPki => {
  const dir = mkdtempSync(join(tmpdir(), "effect-fleet-pki-"))
  selfSignedCa(dir, "client-ca")
  selfSignedCa(dir, "rogue-ca")
  newKeyAndCsr(dir, "server", "localhost")
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
  sign(dir, "server", "client-ca", "server.ext")
  return {
    dir,
    caPath: join(dir, "client-ca.crt"),
    ca: readFileSync(join(dir, "client-ca.crt"), "utf8"),
    serverCertPath: join(dir, "server.crt"),
    serverKeyPath: join(dir, "server.key"),
    client: (cn, options) => {
      const name = `client-${serial}`
      newKeyAndCsr(dir, name, cn)
      sign(dir, name, options?.rogue === true ? "rogue-ca" : "client-ca")
      return { cert: readFileSync(join(dir, `${name}.crt`), "utf8"), key: readFileSync(join(dir, `${name}.key`), "utf8") }
    }
  }
}
