// Reading the ESP-IDF Secure Boot v2 signature sector that follows a signed image (ESP-IDF
// security/secure-boot-v2, "Signature Block Format"; espsecure's sign_data --version 2 writes it).
//
//   image            what parseAppImage reads, through its appended SHA-256
//   padding          to the next 4 KB boundary (0xFF); covered by the image digest
//   signature sector 4096 bytes: up to 3 signature blocks of 1216 bytes, then 0xFF
//
// One signature block (all multi-byte numbers little endian, as the chip's RSA and ECDSA peripherals take them):
//
//   0     magic 0xE7
//   1     version: 0x02 RSA-PSS, 0x03 ECDSA
//   2     ECDSA only: image digest type, 0 SHA-256, 1 SHA-384 (0 for RSA)
//   3     reserved
//   RSA-3072 and ECDSA P-192/P-256:
//   4     image digest, SHA-256 (32)
//   36    RSA: modulus n (384), exponent e (u32), r_inv = 2^6144 mod n (384), m' = -n⁻¹ mod 2^32 (u32)
//   812   RSA: RSA-PSS signature (384)
//   36    ECDSA: curve id (1 = P-192, 2 = P-256), x (32), y (32), then r (32), s (32); P-192 uses 24 of each 32
//   ECDSA P-384:
//   4     image digest, SHA-384 (48)
//   52    curve id 3, x (48), y (48), then r (48), s (48)
//   1196  CRC-32 of bytes 0..1195 (esp_rom_crc32_le with seed 0, zlib's crc32)
//   1200  16 bytes of padding (zeros)
//
// The "public key digest" burned into eFuse (espsecure digest_sbv2_public_key, and what the bootloader
// compares with) is SHA-256 of the key exactly as the block stores it: the 776 RSA key bytes, or curve id
// plus point (65 bytes, or 97 for P-384).
//
// Field offsets, digest types and key digests are checked in the tests against the espsecure v4.12.0
// output in shared/fixtures/esptool/expected. Hashing is passed in, as in app-image.ts: the domain stays pure,
// and a parsed block still says whether its digest matches the image, so no caller can forget to compare.

import type { AppImage } from './app-image'
import { crc32Le } from './checksums'

export const SIGNATURE_SECTOR_BYTES = 4096
export const SIGNATURE_BLOCK_BYTES = 1216
/** ets_secure_boot_signature_t holds three blocks; the ESP32 (ECO3) uses only the first. */
export const SIGNATURE_BLOCK_SLOTS = 3
export const SIGNATURE_BLOCK_MAGIC = 0xe7
export const SIGNATURE_BLOCK_VERSION_RSA = 0x02
export const SIGNATURE_BLOCK_VERSION_ECDSA = 0x03
/** The CRC covers everything before it; the 16 bytes of padding after it are not covered. */
const CRC_COVERED_BYTES = 1196
const RSA_KEY_BYTES = 384
const RSA_KEY_MATERIAL_BYTES = RSA_KEY_BYTES + 4 + RSA_KEY_BYTES + 4

export type SecureBootV2Scheme = 'RSA-3072' | 'ECDSA-P192' | 'ECDSA-P256' | 'ECDSA-P384'
export type EcdsaCurve = 'P-192' | 'P-256' | 'P-384'
export type ImageDigestAlgorithm = 'SHA-256' | 'SHA-384'

/** Curve ids of the ECDSA block (the ROM's ECDSA_CURVE enum). */
export const ECDSA_CURVE_IDS: Readonly<Record<EcdsaCurve, number>> = { 'P-192': 1, 'P-256': 2, 'P-384': 3 }
const CURVE_BY_ID = new Map<number, EcdsaCurve>([
  [1, 'P-192'],
  [2, 'P-256'],
  [3, 'P-384'],
])
const COORDINATE_BYTES: Readonly<Record<EcdsaCurve, number>> = { 'P-192': 24, 'P-256': 32, 'P-384': 48 }
const ECDSA_SCHEMES: Readonly<Record<EcdsaCurve, EcdsaSignatureBlock['scheme']>> = {
  'P-192': 'ECDSA-P192',
  'P-256': 'ECDSA-P256',
  'P-384': 'ECDSA-P384',
}

export interface SecureBootV2Hashes {
  /** Synchronous SHA-256: the image digest of RSA and ECDSA P-192/P-256 blocks, and every key digest. */
  sha256: (bytes: Uint8Array) => Uint8Array
  /** Synchronous SHA-384: the image digest of ECDSA P-384 blocks. */
  sha384: (bytes: Uint8Array) => Uint8Array
}

/** Numbers are big endian here, the way every verifier outside the chip expects them. */
export interface RsaPublicKey {
  kind: 'RSA'
  modulus: Uint8Array
  exponent: number
  /** r_inv = 2^(2·3072) mod n, precomputed for the chip's Montgomery multiplier. */
  rInverse: Uint8Array
  /** m' = -n⁻¹ mod 2^32, the other Montgomery constant. */
  mPrime: number
}

export interface EcdsaPublicKey {
  kind: 'ECDSA'
  curve: EcdsaCurve
  curveId: number
  x: Uint8Array
  y: Uint8Array
}

interface SignatureBlockCommon {
  /** Slot 0, 1 or 2 of the sector. */
  index: number
  fileOffset: number
  version: number
  imageDigestAlgorithm: ImageDigestAlgorithm
  /** The digest the block was signed over, as stored. */
  imageDigest: Uint8Array
  /** Does the stored digest equal the digest of every byte before the signature sector? */
  imageDigestMatches: boolean
  /** The key as the block stores it, little endian: what the eFuse key digest is a hash of. */
  keyMaterial: Uint8Array
  /** SHA-256 of keyMaterial: the value `espsecure digest_sbv2_public_key` writes and eFuse holds. */
  publicKeyDigest: Uint8Array
  storedCrc: number
  calculatedCrc: number
  /** esptool and the bootloader treat a block whose CRC fails as absent. */
  crcOk: boolean
}

export interface RsaSignatureBlock extends SignatureBlockCommon {
  scheme: 'RSA-3072'
  publicKey: RsaPublicKey
  /** RSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) over imageDigest, big endian (the block stores it reversed). */
  signature: Uint8Array
}

export interface EcdsaSignatureBlock extends SignatureBlockCommon {
  scheme: 'ECDSA-P192' | 'ECDSA-P256' | 'ECDSA-P384'
  publicKey: EcdsaPublicKey
  /** ECDSA over imageDigest, r and s big endian (the block stores them little endian, micro-ecc style). */
  signature: { r: Uint8Array; s: Uint8Array }
}

export type SignatureBlock = RsaSignatureBlock | EcdsaSignatureBlock

export type SignatureSlot =
  /** No 0xE7 magic: erased flash (0xFF) where no block was written. espsecure prints "absent/invalid". */
  | { index: number; fileOffset: number; state: 'empty' }
  /** Has the magic but a layout this reader does not know; the bootloader would not accept it either. */
  | { index: number; fileOffset: number; state: 'unrecognised'; reason: string }
  | { index: number; fileOffset: number; state: 'block'; block: SignatureBlock }

export interface SignatureSector {
  /** Where the sector starts: also how many bytes the image digest covers. */
  fileOffset: number
  slots: readonly SignatureSlot[]
  /** The slots that hold a block, in slot order; their crcOk and imageDigestMatches still need reading. */
  blocks: readonly SignatureBlock[]
  /** File bytes after the sector. Nothing reads them; a flash dump of a whole partition has them. */
  trailingBytes: number
}

export type SignatureSectorFault =
  | { kind: 'invalid-offset'; sectorOffset: number }
  | { kind: 'truncated-sector'; sectorOffset: number; fileLength: number }

export type SignatureSectorError = SignatureSectorFault & { message: string }

export type SignatureSectorResult =
  /** sector is null when the file ends at or before where the sector would start: an unsigned image. */
  | { ok: true; sector: SignatureSector | null }
  | { ok: false; error: SignatureSectorError }

/**
 * Where the bootloader looks for the signature sector of an image of `imageLength` bytes (through the
 * appended SHA-256): the next 4 KB boundary, as esp_image_format.c's ALIGN_UP(end, FLASH_SECTOR_SIZE).
 */
export function signatureSectorOffset(imageLength: number): number {
  return Math.ceil(imageLength / SIGNATURE_SECTOR_BYTES) * SIGNATURE_SECTOR_BYTES
}

/** The signature sector of an image parseAppImage has read. */
export function readImageSignatures(bytes: Uint8Array, image: AppImage, hashes: SecureBootV2Hashes): SignatureSectorResult {
  return readSignatureSector(bytes, signatureSectorOffset(image.imageLength), hashes)
}

/**
 * Read the signature sector at `sectorOffset`. Never throws: a sector cut short is an error, an erased
 * slot is 'empty', and each block says whether its CRC and image digest hold. Checking the signature
 * itself needs RSA and ECDSA, which the core does (electron/core/ota/artifact.ts).
 */
export function readSignatureSector(bytes: Uint8Array, sectorOffset: number, hashes: SecureBootV2Hashes): SignatureSectorResult {
  const fail = (fault: SignatureSectorFault): SignatureSectorResult => ({ ok: false, error: { ...fault, message: describe(fault) } })
  if (!Number.isSafeInteger(sectorOffset) || sectorOffset < 0 || sectorOffset % SIGNATURE_SECTOR_BYTES !== 0) {
    return fail({ kind: 'invalid-offset', sectorOffset })
  }
  const fileLength = bytes.byteLength
  if (fileLength <= sectorOffset) return { ok: true, sector: null }
  if (fileLength < sectorOffset + SIGNATURE_SECTOR_BYTES) return fail({ kind: 'truncated-sector', sectorOffset, fileLength })

  const signed = bytes.subarray(0, sectorOffset)
  // Each digest is needed at most once, however many blocks there are.
  const digests = new Map<ImageDigestAlgorithm, Uint8Array>()
  const imageDigest = (algorithm: ImageDigestAlgorithm): Uint8Array => {
    let digest = digests.get(algorithm)
    if (!digest) {
      digest = algorithm === 'SHA-384' ? hashes.sha384(signed) : hashes.sha256(signed)
      digests.set(algorithm, digest)
    }
    return digest
  }

  const slots: SignatureSlot[] = []
  for (let index = 0; index < SIGNATURE_BLOCK_SLOTS; index++) {
    const fileOffset = sectorOffset + index * SIGNATURE_BLOCK_BYTES
    slots.push(readSlot(bytes.subarray(fileOffset, fileOffset + SIGNATURE_BLOCK_BYTES), index, fileOffset, imageDigest, hashes.sha256))
  }
  return {
    ok: true,
    sector: {
      fileOffset: sectorOffset,
      slots,
      blocks: slots.flatMap((slot) => (slot.state === 'block' ? [slot.block] : [])),
      trailingBytes: fileLength - sectorOffset - SIGNATURE_SECTOR_BYTES,
    },
  }
}

function readSlot(
  raw: Uint8Array,
  index: number,
  fileOffset: number,
  imageDigest: (algorithm: ImageDigestAlgorithm) => Uint8Array,
  sha256: (bytes: Uint8Array) => Uint8Array,
): SignatureSlot {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  if (raw[0] !== SIGNATURE_BLOCK_MAGIC) return { index, fileOffset, state: 'empty' }
  const version = raw[1] as number
  const storedCrc = view.getUint32(CRC_COVERED_BYTES, true)
  const calculatedCrc = crc32Le(0, raw.subarray(0, CRC_COVERED_BYTES))
  const crc = { storedCrc, calculatedCrc, crcOk: storedCrc === calculatedCrc }
  const digestCheck = (algorithm: ImageDigestAlgorithm, stored: Uint8Array) => ({
    imageDigestAlgorithm: algorithm,
    imageDigest: stored,
    imageDigestMatches: bytesEqual(stored, imageDigest(algorithm)),
  })

  if (version === SIGNATURE_BLOCK_VERSION_RSA) {
    const keyMaterial = raw.slice(36, 36 + RSA_KEY_MATERIAL_BYTES)
    const block: RsaSignatureBlock = {
      scheme: 'RSA-3072',
      index,
      fileOffset,
      version,
      ...digestCheck('SHA-256', raw.slice(4, 36)),
      keyMaterial,
      publicKeyDigest: sha256(keyMaterial),
      publicKey: {
        kind: 'RSA',
        modulus: reversed(raw.subarray(36, 420)),
        exponent: view.getUint32(420, true),
        rInverse: reversed(raw.subarray(424, 808)),
        mPrime: view.getUint32(808, true),
      },
      signature: reversed(raw.subarray(812, 812 + RSA_KEY_BYTES)),
      ...crc,
    }
    return { index, fileOffset, state: 'block', block }
  }

  if (version === SIGNATURE_BLOCK_VERSION_ECDSA) {
    const digestType = raw[2] as number
    if (digestType !== 0 && digestType !== 1) {
      return { index, fileOffset, state: 'unrecognised', reason: `ECDSA image digest type ${digestType} (0 is SHA-256, 1 is SHA-384)` }
    }
    const algorithm: ImageDigestAlgorithm = digestType === 1 ? 'SHA-384' : 'SHA-256'
    const keyStart = algorithm === 'SHA-384' ? 52 : 36
    const curveId = raw[keyStart] as number
    const curve = CURVE_BY_ID.get(curveId)
    // P-384 needs the 48-byte SHA-384 layout and the others the 32-byte one; espsecure writes no other pairing.
    if (!curve || (curve === 'P-384') !== (algorithm === 'SHA-384')) {
      return { index, fileOffset, state: 'unrecognised', reason: `ECDSA curve id ${curveId} with a ${algorithm} image digest` }
    }
    // Points and signatures sit in fixed 64-byte fields (96 for P-384); P-192 uses the first 24 of each 32.
    const field = algorithm === 'SHA-384' ? 48 : 32
    const size = COORDINATE_BYTES[curve]
    const point = keyStart + 1
    const rs = point + 2 * field
    const keyMaterial = raw.slice(keyStart, point + 2 * field)
    const block: EcdsaSignatureBlock = {
      scheme: ECDSA_SCHEMES[curve],
      index,
      fileOffset,
      version,
      ...digestCheck(algorithm, raw.slice(4, 4 + (algorithm === 'SHA-384' ? 48 : 32))),
      keyMaterial,
      publicKeyDigest: sha256(keyMaterial),
      publicKey: {
        kind: 'ECDSA',
        curve,
        curveId,
        x: reversed(raw.subarray(point, point + size)),
        y: reversed(raw.subarray(point + field, point + field + size)),
      },
      signature: {
        r: reversed(raw.subarray(rs, rs + size)),
        s: reversed(raw.subarray(rs + field, rs + field + size)),
      },
      ...crc,
    }
    return { index, fileOffset, state: 'block', block }
  }

  return { index, fileOffset, state: 'unrecognised', reason: `block version ${hex(version)} (0x02 is RSA, 0x03 is ECDSA)` }
}

// --- A trusted key, encoded the way the block (and so the eFuse digest) stores it -------------------------

/**
 * The 776 bytes an RSA-3072 key takes in a signature block: n, e, r_inv and m', little endian. The two
 * Montgomery constants are derived here with BigInt, as espsecure derives them, so a PEM key's digest
 * can be compared with the one a block or an eFuse holds.
 */
export function rsaKeyMaterial(modulus: Uint8Array, exponent: number): Uint8Array {
  const n = bigIntFromBytes(modulus)
  const out = new Uint8Array(RSA_KEY_MATERIAL_BYTES)
  const view = new DataView(out.buffer)
  out.set(bytesFromBigInt(n, RSA_KEY_BYTES).reverse(), 0)
  view.setUint32(RSA_KEY_BYTES, exponent, true)
  const rInverse = (1n << BigInt(2 * RSA_KEY_BYTES * 8)) % n
  out.set(bytesFromBigInt(rInverse, RSA_KEY_BYTES).reverse(), RSA_KEY_BYTES + 4)
  const word = 1n << 32n
  const mPrime = (word - modularInverse(n % word, word)) % word
  view.setUint32(RSA_KEY_MATERIAL_BYTES - 4, Number(mPrime), true)
  return out
}

/** Curve id and point, little endian, in the block's fixed-size field: 65 bytes, or 97 for P-384. */
export function ecdsaKeyMaterial(curve: EcdsaCurve, x: Uint8Array, y: Uint8Array): Uint8Array {
  const field = curve === 'P-384' ? 48 : 32
  const size = COORDINATE_BYTES[curve]
  const out = new Uint8Array(1 + 2 * field)
  out[0] = ECDSA_CURVE_IDS[curve]
  out.set(bytesFromBigInt(bigIntFromBytes(x), size).reverse(), 1)
  out.set(bytesFromBigInt(bigIntFromBytes(y), size).reverse(), 1 + field)
  return out
}

function describe(fault: SignatureSectorFault): string {
  switch (fault.kind) {
    case 'invalid-offset':
      return `A Secure Boot v2 signature sector starts on a 4 KB boundary; ${fault.sectorOffset} is not one.`
    case 'truncated-sector':
      return (
        `The file is truncated: a Secure Boot v2 signature sector starts at ${hex(fault.sectorOffset)} and needs ` +
        `${SIGNATURE_SECTOR_BYTES} bytes, but the file ends ${fault.fileLength - fault.sectorOffset} bytes into it.`
      )
  }
}

function reversed(bytes: Uint8Array): Uint8Array {
  return bytes.slice().reverse()
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number)
  return difference === 0
}

function bigIntFromBytes(bytes: Uint8Array): bigint {
  let value = 0n
  for (const byte of bytes) value = (value << 8n) | BigInt(byte)
  return value
}

/** Big endian, left-padded with zeros to `length` bytes (leading zeros beyond it are dropped). */
function bytesFromBigInt(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let rest = value
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn)
    rest >>= 8n
  }
  return out
}

/** a⁻¹ mod m by the extended Euclidean algorithm; a and m coprime (n is odd, m a power of two). */
function modularInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a, m]
  let [oldS, s] = [1n, 0n]
  while (r !== 0n) {
    const q = oldR / r
    ;[oldR, r] = [r, oldR - q * r]
    ;[oldS, s] = [s, oldS - q * s]
  }
  return ((oldS % m) + m) % m
}

function hex(value: number): string {
  return `0x${value.toString(16)}`
}
