// OTA artifacts: an ESP-IDF application image the console has read, checked and signed with the site's
// release key, so that what it serves to devices later is provably what was checked on import.
//
// Two signatures are involved and they answer different questions:
//   - Secure Boot v2 blocks (ESP-IDF's, made by espsecure with the firmware team's key): will a device
//     with Secure Boot enabled boot this image? Checked here the way the bootloader checks them (CRC,
//     image digest, RSA-PSS or ECDSA signature, and the key's digest against the trusted ones).
//   - The manifest signature (the console's own, ECDSA P-256 release key, release-key.ts): is this the
//     artifact, with this version, chip and digest, that this console accepted? Checked on import and
//     again before every serve, so a file swapped or damaged in the data folder is never sent out.

import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import { checkImageForChip, parseAppImage, type AppImage, type ImageError } from '../../../shared/domain/firmware/app-image'
import { toHex } from '../../../shared/domain/firmware/checksums'
import type { EspChipName } from '../../../shared/domain/firmware/chips'
import {
  ecdsaKeyMaterial,
  readSignatureSector,
  rsaKeyMaterial,
  signatureSectorOffset,
  type EcdsaCurve,
  type SecureBootV2Hashes,
  type SecureBootV2Scheme,
  type SignatureBlock,
  type SignatureSectorError,
} from '../../../shared/domain/firmware/secure-boot-v2'
import { compareFirmwareVersions } from '../../../shared/domain/ota/firmware-version'
import { releaseKeyId, type ReleaseKey } from './release-key'

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest())
const sha384 = (bytes: Uint8Array) => new Uint8Array(createHash('sha384').update(bytes).digest())
const HASHES: SecureBootV2Hashes = { sha256, sha384 }

// --- Secure Boot v2: the device's view of an image ---------------------------------------------------------

export interface SecureBootBlockCheck {
  index: number
  scheme: SecureBootV2Scheme
  /** Hex SHA-256 of the block's key: the digest a device's eFuse must hold to trust it. */
  publicKeyDigest: string
  /** Only when trusted keys were given: is this block's key one of them? */
  trusted?: boolean
}

export type SecureBootFault =
  | { kind: 'bad-sector'; cause: SignatureSectorError }
  | { kind: 'unrecognised-block'; index: number; reason: string }
  | { kind: 'block-crc-mismatch'; index: number; stored: number; calculated: number }
  | { kind: 'image-digest-mismatch'; index: number; algorithm: string }
  | { kind: 'inconsistent-rsa-key'; index: number }
  | { kind: 'bad-signature'; index: number; scheme: SecureBootV2Scheme; reason?: string }
  | { kind: 'bad-trusted-key'; reason: string }
  | { kind: 'not-signed' }
  | { kind: 'untrusted-key'; keyDigests: string[]; trustedDigests: string[] }

export type SecureBootError = SecureBootFault & { message: string }

export type SecureBootVerification =
  | { ok: true; signed: boolean; blocks: SecureBootBlockCheck[] }
  | { ok: false; error: SecureBootError }

export interface VerifySecureBootOptions {
  /**
   * PEM public (or private) keys the devices trust, as burned into their eFuse key digests. When given,
   * at least one block must carry one of them: an unsigned image, or one signed by another key, is refused.
   */
  trustedKeys?: readonly string[]
}

/**
 * Verify the Secure Boot v2 signature sector at `sectorOffset` (signatureSectorOffset(image.imageLength)
 * for an image parseAppImage read). Every block present must be whole and verify: a block that does not
 * means the image was changed after signing, even if another block still holds. A file with no sector
 * is `signed: false` unless trusted keys are demanded.
 */
export function verifySecureBootV2(bytes: Uint8Array, sectorOffset: number, options: VerifySecureBootOptions = {}): SecureBootVerification {
  const fail = (fault: SecureBootFault): SecureBootVerification => ({ ok: false, error: { ...fault, message: describeSecureBoot(fault) } })

  let trustedDigests: string[] | undefined
  if (options.trustedKeys) {
    try {
      trustedDigests = options.trustedKeys.map((pem) => toHex(secureBootKeyDigest(pem)))
    } catch (error) {
      return fail({ kind: 'bad-trusted-key', reason: (error as Error).message })
    }
  }

  const read = readSignatureSector(bytes, sectorOffset, HASHES)
  if (!read.ok) return fail({ kind: 'bad-sector', cause: read.error })
  const blocks: SecureBootBlockCheck[] = []
  for (const slot of read.sector?.slots ?? []) {
    if (slot.state === 'empty') continue
    if (slot.state === 'unrecognised') return fail({ kind: 'unrecognised-block', index: slot.index, reason: slot.reason })
    const { block } = slot
    const problem = checkSignatureBlock(bytes.subarray(0, sectorOffset), block)
    if (problem) return fail(problem)
    const publicKeyDigest = toHex(block.publicKeyDigest)
    blocks.push({
      index: block.index,
      scheme: block.scheme,
      publicKeyDigest,
      ...(trustedDigests ? { trusted: trustedDigests.includes(publicKeyDigest) } : {}),
    })
  }

  if (trustedDigests) {
    if (blocks.length === 0) return fail({ kind: 'not-signed' })
    if (!blocks.some((block) => block.trusted)) {
      return fail({ kind: 'untrusted-key', keyDigests: blocks.map((block) => block.publicKeyDigest), trustedDigests })
    }
  }
  return { ok: true, signed: blocks.length > 0, blocks }
}

/**
 * The first reason a block would not pass the bootloader, or null. `signedRegion` is every byte before
 * the signature sector. The signature is verified over those bytes with the block's own key, so it
 * also re-checks the digest the block stores.
 */
export function checkSignatureBlock(signedRegion: Uint8Array, block: SignatureBlock): SecureBootFault | null {
  const index = block.index
  if (!block.crcOk) return { kind: 'block-crc-mismatch', index, stored: block.storedCrc, calculated: block.calculatedCrc }
  if (!block.imageDigestMatches) return { kind: 'image-digest-mismatch', index, algorithm: block.imageDigestAlgorithm }
  try {
    if (block.scheme === 'RSA-3072') {
      const { modulus, exponent } = block.publicKey
      // The chip computes with r_inv and m' as stored; constants that do not belong to n would fail there.
      if (!bytesEqual(rsaKeyMaterial(modulus, exponent), block.keyMaterial)) return { kind: 'inconsistent-rsa-key', index }
      const key = createPublicKey({ key: { kty: 'RSA', n: base64url(modulus), e: base64url(uint32Bytes(exponent)) }, format: 'jwk' })
      const valid = verify('sha256', signedRegion, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, block.signature)
      return valid ? null : { kind: 'bad-signature', index, scheme: block.scheme }
    }
    const { curve, x, y } = block.publicKey
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX[curve], Buffer.from([0x04]), x, y]), format: 'der', type: 'spki' })
    // espsecure signs SHA-384 of the image with P-384 and SHA-256 with the other curves.
    const hash = curve === 'P-384' ? 'sha384' : 'sha256'
    const valid = verify(hash, signedRegion, { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([block.signature.r, block.signature.s]))
    return valid ? null : { kind: 'bad-signature', index, scheme: block.scheme }
  } catch (error) {
    // A key that is no key at all (a point off the curve, a modulus of zeros) cannot have signed anything.
    return { kind: 'bad-signature', index, scheme: block.scheme, reason: (error as Error).message }
  }
}

/**
 * The Secure Boot v2 key digest of a PEM key, as `espsecure digest_sbv2_public_key` writes it and eFuse
 * holds it: SHA-256 of the key as a signature block stores it. Throws on a key Secure Boot v2 cannot use.
 */
export function secureBootKeyDigest(pem: string): Uint8Array {
  const key = createPublicKey(pem)
  return sha256(secureBootKeyMaterial(key))
}

function secureBootKeyMaterial(key: KeyObject): Uint8Array {
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa') {
    if (details?.modulusLength !== 3072) throw new Error(`Secure Boot v2 uses RSA-3072; this key is RSA-${details?.modulusLength}.`)
    const jwk = key.export({ format: 'jwk' })
    const exponent = Buffer.from(jwk.e ?? '', 'base64url')
    // The block keeps e in 32 bits; every RSA key espsecure makes uses 65537.
    if (exponent.length === 0 || exponent.length > 4) throw new Error('Secure Boot v2 keeps the RSA exponent in 32 bits; this key has a longer one.')
    return rsaKeyMaterial(Buffer.from(jwk.n ?? '', 'base64url'), exponent.readUIntBE(0, exponent.length))
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = CURVE_BY_OPENSSL_NAME[details?.namedCurve ?? '']
    if (!curve) throw new Error(`Secure Boot v2 uses ECDSA P-192, P-256 or P-384; this key is on ${details?.namedCurve}.`)
    const size = COORDINATE_BYTES[curve]
    // The SubjectPublicKeyInfo ends with the uncompressed point 04 | x | y.
    const point = key.export({ format: 'der', type: 'spki' }).subarray(-2 * size)
    return ecdsaKeyMaterial(curve, point.subarray(0, size), point.subarray(size))
  }
  throw new Error(`Secure Boot v2 uses RSA-3072 or ECDSA keys; this is a ${key.asymmetricKeyType} key.`)
}

const CURVE_BY_OPENSSL_NAME: Readonly<Record<string, EcdsaCurve>> = { prime192v1: 'P-192', prime256v1: 'P-256', secp384r1: 'P-384' }
const COORDINATE_BYTES: Readonly<Record<EcdsaCurve, number>> = { 'P-192': 24, 'P-256': 32, 'P-384': 48 }
/** DER of SubjectPublicKeyInfo up to the point: ecPublicKey, the curve's OID, and the BIT STRING header. */
const SPKI_PREFIX: Readonly<Record<EcdsaCurve, Buffer>> = {
  'P-192': Buffer.from('3049301306072a8648ce3d020106082a8648ce3d030101033200', 'hex'),
  'P-256': Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  'P-384': Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
}

function describeSecureBoot(fault: SecureBootFault): string {
  switch (fault.kind) {
    case 'bad-sector':
      return fault.cause.message
    case 'unrecognised-block':
      return `Secure Boot v2 signature block ${fault.index} has an unknown layout (${fault.reason}); no bootloader would accept it.`
    case 'block-crc-mismatch':
      return (
        `Secure Boot v2 signature block ${fault.index} is damaged: its CRC is ${hex(fault.stored)} but the block's bytes give ` +
        `${hex(fault.calculated)}. The bootloader would ignore it.`
      )
    case 'image-digest-mismatch':
      return (
        `Secure Boot v2 signature block ${fault.index} was made for other bytes: its ${fault.algorithm} image digest does not match ` +
        'this image. The image was changed after it was signed.'
      )
    case 'inconsistent-rsa-key':
      return `Secure Boot v2 signature block ${fault.index} carries RSA constants (r_inv, m') that do not belong to its modulus.`
    case 'bad-signature':
      return (
        `The ${fault.scheme} signature in Secure Boot v2 signature block ${fault.index} does not verify with the key the block carries` +
        (fault.reason ? ` (${fault.reason})` : '') +
        '. The image or its signature was changed after signing.'
      )
    case 'bad-trusted-key':
      return `A trusted Secure Boot key cannot be used: ${fault.reason}`
    case 'not-signed':
      return 'The image carries no Secure Boot v2 signature, but the site requires one from a trusted key.'
    case 'untrusted-key':
      return (
        `The image is signed with key digest ${fault.keyDigests.join(', ')}, which is not a trusted Secure Boot key ` +
        `(${fault.trustedDigests.join(', ')}). Devices with Secure Boot enabled would refuse to boot it.`
      )
  }
}

// --- The console's artifacts ----------------------------------------------------------------------------

export interface SecureBootSummary {
  /** The Secure Boot v2 blocks the image carries, each already verified; empty for an unsigned image. */
  blocks: { index: number; scheme: SecureBootV2Scheme; publicKeyDigest: string }[]
}

export interface ArtifactManifest {
  /** esp_app_desc_t.version: PROJECT_VER or git describe. */
  version: string
  /** esp_app_desc_t.project_name. */
  project: string
  chip: EspChipName
  /** esp_app_desc_t.idf_ver. */
  idf: string
  /** Bytes of the whole file as served: image, padding and any signature sector. */
  size: number
  /** Hex SHA-256 of the whole file. */
  sha256: string
  secureBoot: SecureBootSummary
  /** releaseKeyId of the key that signed this manifest. */
  keyId: string
  /** Milliseconds since the epoch. */
  signedAt: number
  /** Base64 DER ECDSA P-256 / SHA-256 signature of the fields above (manifestSigningPayload). */
  signature: string
}

export type ArtifactFault =
  | { kind: 'bad-image'; cause: ImageError }
  | { kind: 'not-an-app'; imageKind: AppImage['kind'] }
  | { kind: 'unknown-chip'; chipId: number }
  | { kind: 'wrong-chip'; cause: ImageError }
  | { kind: 'below-minimum-version'; version: string; minimumVersion: string }
  | { kind: 'incomparable-version'; version: string; minimumVersion: string }
  | { kind: 'secure-boot'; cause: SecureBootError }
  | { kind: 'malformed-manifest'; field: string }
  | { kind: 'size-mismatch'; manifestSize: number; fileSize: number }
  | { kind: 'sha256-mismatch'; manifestSha256: string; fileSha256: string }
  | { kind: 'unsigned' }
  | { kind: 'wrong-key'; manifestKeyId: string; keyId: string }
  | { kind: 'bad-signature' }
  | { kind: 'bad-public-key'; reason: string }

export type ArtifactError = ArtifactFault & { message: string }
export type ArtifactImport = { ok: true; manifest: ArtifactManifest } | { ok: false; error: ArtifactError }
export type ArtifactCheck = { ok: true } | { ok: false; error: ArtifactError }

export interface ImportArtifactOptions {
  /** Synchronous SHA-256 (node:crypto's): the image's own digest and the manifest's. */
  sha256: (bytes: Uint8Array) => Uint8Array
  /** Milliseconds since the epoch, for signedAt. */
  now: () => number
  releaseKey: ReleaseKey
  /** Refuse versions below this one (anti-downgrade), and versions that cannot be compared with it. */
  minimumVersion?: string
  /** Refuse images built for another chip. */
  expectedChip?: EspChipName
  /** Demand a Secure Boot v2 signature by one of these keys (PEM): the site's devices have Secure Boot on. */
  secureBootKeys?: readonly string[]
}

/**
 * Read an application image, refuse what the fleet must not get, and sign a manifest for the rest.
 * Refused: anything that is not a whole ESP-IDF application image (damaged, truncated, a bootloader),
 * another chip's image, a version below the minimum, and an image whose Secure Boot v2 signatures do not
 * verify (or, when keys are demanded, are missing or by another key).
 */
export function importArtifact(bytes: Uint8Array, options: ImportArtifactOptions): ArtifactImport {
  const fail = (fault: ArtifactFault): ArtifactImport => ({ ok: false, error: artifactError(fault) })
  const parsed = parseAppImage(bytes, { sha256: options.sha256 })
  if (!parsed.ok) return fail({ kind: 'bad-image', cause: parsed.error })
  const image = parsed.image
  if (image.kind !== 'application' || !image.appDescription) return fail({ kind: 'not-an-app', imageKind: image.kind })
  if (options.expectedChip) {
    const fits = checkImageForChip(image, options.expectedChip)
    if (!fits.ok) return fail({ kind: 'wrong-chip', cause: fits.error })
  }
  if (!image.chip) return fail({ kind: 'unknown-chip', chipId: image.chipId })

  const description = image.appDescription
  if (options.minimumVersion !== undefined) {
    const order = compareFirmwareVersions(description.version, options.minimumVersion)
    if (order === null) return fail({ kind: 'incomparable-version', version: description.version, minimumVersion: options.minimumVersion })
    if (order < 0) return fail({ kind: 'below-minimum-version', version: description.version, minimumVersion: options.minimumVersion })
  }

  const secureBoot = verifySecureBootV2(bytes, signatureSectorOffset(image.imageLength), { trustedKeys: options.secureBootKeys })
  if (!secureBoot.ok) return fail({ kind: 'secure-boot', cause: secureBoot.error })

  const unsigned: Omit<ArtifactManifest, 'signature'> = {
    version: description.version,
    project: description.projectName,
    chip: image.chip,
    idf: description.idfVersion,
    size: bytes.byteLength,
    sha256: toHex(options.sha256(bytes)),
    secureBoot: { blocks: secureBoot.blocks.map(({ index, scheme, publicKeyDigest }) => ({ index, scheme, publicKeyDigest })) },
    keyId: options.releaseKey.keyId,
    signedAt: options.now(),
  }
  const signature = Buffer.from(options.releaseKey.sign(manifestSigningPayload(unsigned))).toString('base64')
  const manifest: ArtifactManifest = { ...unsigned, signature }
  // The same check that runs before every serve, run once here so a manifest that would not pass it is never kept.
  const check = verifyArtifact(bytes, manifest, options.releaseKey.publicKeyPem)
  if (!check.ok) return check
  return { ok: true, manifest }
}

/**
 * Is `bytes` the artifact `manifest` describes, signed by `publicKey` (the release key's PEM)? Checks the
 * size, the SHA-256, the key id and the signature over every manifest field. Run before serving.
 */
export function verifyArtifact(bytes: Uint8Array, manifest: ArtifactManifest, publicKey: string): ArtifactCheck {
  const fail = (fault: ArtifactFault): ArtifactCheck => ({ ok: false, error: artifactError(fault) })
  const malformed = malformedField(manifest)
  if (malformed) return fail({ kind: 'malformed-manifest', field: malformed })
  if (manifest.size !== bytes.byteLength) return fail({ kind: 'size-mismatch', manifestSize: manifest.size, fileSize: bytes.byteLength })
  const fileSha256 = toHex(sha256(bytes))
  if (manifest.sha256 !== fileSha256) return fail({ kind: 'sha256-mismatch', manifestSha256: manifest.sha256, fileSha256 })
  if (manifest.signature === '') return fail({ kind: 'unsigned' })

  let key: KeyObject
  try {
    key = createPublicKey(publicKey)
  } catch (error) {
    return fail({ kind: 'bad-public-key', reason: (error as Error).message })
  }
  const keyId = releaseKeyId(key)
  if (manifest.keyId !== keyId) return fail({ kind: 'wrong-key', manifestKeyId: manifest.keyId, keyId })
  const signature = Buffer.from(manifest.signature, 'base64')
  // Buffer's base64 decoder skips what it does not understand; only a faithful round trip is a signature.
  if (signature.toString('base64') !== manifest.signature) return fail({ kind: 'malformed-manifest', field: 'signature' })
  let valid: boolean
  try {
    valid = verify('sha256', manifestSigningPayload(manifest), key, signature)
  } catch {
    valid = false
  }
  return valid ? { ok: true } : fail({ kind: 'bad-signature' })
}

/** Domain-separates manifest signatures from anything else the release key might ever sign. */
const MANIFEST_SIGNATURE_CONTEXT = 'esp-fleet-console OTA artifact manifest v1\n'

/**
 * The bytes a manifest signature covers: a context line, then the signed fields as JSON with sorted keys,
 * picked by name so a field added to a stored manifest later is neither signed nor able to break the
 * signature, and key order (a database may reorder JSON) does not matter.
 */
export function manifestSigningPayload(manifest: Omit<ArtifactManifest, 'signature'>): Uint8Array {
  const signed = {
    version: manifest.version,
    project: manifest.project,
    chip: manifest.chip,
    idf: manifest.idf,
    size: manifest.size,
    sha256: manifest.sha256,
    secureBoot: { blocks: manifest.secureBoot.blocks.map(({ index, scheme, publicKeyDigest }) => ({ index, scheme, publicKeyDigest })) },
    keyId: manifest.keyId,
    signedAt: manifest.signedAt,
  }
  return new TextEncoder().encode(MANIFEST_SIGNATURE_CONTEXT + canonicalJson(signed))
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** A manifest comes back from storage as JSON: the first field that is not what it must be, or null. */
function malformedField(manifest: unknown): string | null {
  if (manifest === null || typeof manifest !== 'object') return 'manifest'
  const m = manifest as Record<string, unknown>
  for (const field of ['version', 'project', 'chip', 'idf', 'sha256', 'keyId', 'signature']) {
    if (typeof m[field] !== 'string') return field
  }
  if (!Number.isSafeInteger(m.size) || (m.size as number) < 0) return 'size'
  if (!Number.isSafeInteger(m.signedAt)) return 'signedAt'
  const secureBoot = m.secureBoot as { blocks?: unknown } | null | undefined
  if (!secureBoot || typeof secureBoot !== 'object' || !Array.isArray(secureBoot.blocks)) return 'secureBoot'
  for (const block of secureBoot.blocks as unknown[]) {
    const b = block as Record<string, unknown> | null
    if (!b || typeof b !== 'object' || !Number.isSafeInteger(b.index) || typeof b.scheme !== 'string' || typeof b.publicKeyDigest !== 'string') {
      return 'secureBoot.blocks'
    }
  }
  return null
}

function artifactError(fault: ArtifactFault): ArtifactError {
  return { ...fault, message: describeArtifact(fault) }
}

function describeArtifact(fault: ArtifactFault): string {
  switch (fault.kind) {
    case 'bad-image':
      return fault.cause.message
    case 'not-an-app':
      return fault.imageKind === 'bootloader'
        ? 'This is a bootloader image, not an application: OTA updates replace the application only.'
        : 'This image carries no ESP-IDF application description (esp_app_desc_t), so it is not an application OTA can install.'
    case 'unknown-chip':
      return `The image is for chip id ${fault.chipId}, which this console does not know.`
    case 'wrong-chip':
      return fault.cause.message
    case 'below-minimum-version':
      return `Version ${fault.version} is below the minimum ${fault.minimumVersion}: installing it would downgrade the fleet.`
    case 'incomparable-version':
      return (
        `Version "${fault.version}" cannot be ordered against the minimum "${fault.minimumVersion}", so the console cannot tell a downgrade. ` +
        'Give the firmware a version like 1.2.3 (PROJECT_VER) or build it from a tag like v1.2.3.'
      )
    case 'secure-boot':
      return fault.cause.message
    case 'malformed-manifest':
      return `The artifact manifest is malformed: its ${fault.field} is missing or of the wrong type.`
    case 'size-mismatch':
      return `The artifact is ${fault.fileSize} bytes but its manifest says ${fault.manifestSize}: the file was truncated or replaced.`
    case 'sha256-mismatch':
      return `The artifact's SHA-256 is ${fault.fileSha256} but its manifest says ${fault.manifestSha256}: the file was changed after it was signed.`
    case 'unsigned':
      return 'The artifact manifest is not signed; only artifacts signed with the site release key are served.'
    case 'wrong-key':
      return `The artifact was signed with release key ${fault.manifestKeyId.slice(0, 16)}…, not this site's key ${fault.keyId.slice(0, 16)}….`
    case 'bad-signature':
      return "The artifact manifest's signature does not verify with the site release key: the manifest was changed after signing."
    case 'bad-public-key':
      return `The release public key cannot be read: ${fault.reason}`
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** A JWK exponent is big endian without leading zeros. */
function uint32Bytes(value: number): Uint8Array {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(value)
  let start = 0
  while (start < 3 && bytes[start] === 0) start++
  return bytes.subarray(start)
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`
}
