/**
 * The lab's certificates, made with openssl at set-up and kept in the state
 * dir: the lab CA (which probes are told to trust with `--ca`) and the sites'
 * certificate (`*.lab.test`) it signs; and an untrusted "censor" CA whose
 * `*.lab.test` certificate the tls-mitm middlebox presents.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { LAB_ZONE } from './plan.ts'
import { run } from './sh.ts'

/** Paths of the lab's certificate files. */
export interface CertFiles {
  /** The lab CA (PEM): pass it to a probe as `--ca`. */
  ca: string
  siteCert: string
  siteKey: string
  /** The untrusted CA behind the tls-mitm certificate. */
  censorCa: string
  mitmCert: string
  mitmKey: string
}

/** The certificate paths inside a state dir. */
export function certFiles(dir: string): CertFiles {
  return {
    ca: join(dir, 'ca.pem'),
    siteCert: join(dir, 'site.pem'),
    siteKey: join(dir, 'site.key'),
    censorCa: join(dir, 'censor-ca.pem'),
    mitmCert: join(dir, 'mitm.pem'),
    mitmKey: join(dir, 'mitm.key')
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await run([
    'openssl',
    'req',
    '-x509',
    ...EC,
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    join(dir, `${name}.pem`),
    '-days',
    '3650',
    '-subj',
    `/O=blockwatch lab/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign'
  ])
}

async function makeLeaf(dir: string, ca: string, name: string): Promise<void> {
  const ext = join(dir, `${name}.ext`)
  writeFileSync(ext, `subjectAltName=DNS:*.${LAB_ZONE},DNS:${LAB_ZONE}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`)
  await run(['openssl', 'req', ...EC, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`), '-subj', `/O=blockwatch lab/CN=*.${LAB_ZONE}`])
  await run([
    'openssl',
    'x509',
    '-req',
    '-in',
    join(dir, `${name}.csr`),
    '-CA',
    join(dir, `${ca}.pem`),
    '-CAkey',
    join(dir, `${ca}.key`),
    '-set_serial',
    '0x' + randomBytes(8).toString('hex'),
    '-days',
    '825',
    '-extfile',
    ext,
    '-out',
    join(dir, `${name}.pem`)
  ])
}

/** Makes any certificate that is missing from `dir` (so repeated `up`s keep the same CA). */
export async function ensureCerts(dir: string): Promise<CertFiles> {
  const f = certFiles(dir)
  if (!existsSync(f.ca) || !existsSync(f.siteCert)) {
    await makeCa(dir, 'ca', 'blockwatch lab CA')
    await makeLeaf(dir, 'ca', 'site')
  }
  if (!existsSync(f.censorCa) || !existsSync(f.mitmCert)) {
    await makeCa(dir, 'censor-ca', 'censor middlebox CA (untrusted)')
    await makeLeaf(dir, 'censor-ca', 'mitm')
  }
  return f
}
