// OTA artifacts: Secure Boot v2 verification against espsecure verify_signature's own output, the
// site release key (made once, encrypted at rest, never handed out), and the signed manifest that is
// checked on import and before every serve. Images are esptool's real test images; temp dirs for keys.
import { constants, createDecipheriv, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { inspect } from 'node:util'
import { crc32 } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { compareFirmwareVersions, parseFirmwareVersion } from '../../shared/domain/ota/firmware-version'
import {
  checkSignatureBlock,
  importArtifact,
  manifestSigningPayload,
  secureBootKeyDigest,
  verifyArtifact,
  verifySecureBootV2,
  type ArtifactError,
  type ArtifactImport,
  type ArtifactManifest,
  type ImportArtifactOptions,
  type SecureBootVerification,
} from '../../electron/core/ota/artifact'
import {
  FileKeyEncryptionSecret,
  FileReleaseKeyVault,
  RELEASE_KEY_FILE,
  RELEASE_KEY_SEALED_SECRET_FILE,
  RELEASE_KEY_SECRET_FILE,
  ReleaseKeyError,
  SafeStorageKeyEncryptionSecret,
  openFileReleaseKey,
  openReleaseKey,
  releaseKeyId,
  type OsSecretSealer,
  type ReleaseKey,
} from '../../electron/core/ota/release-key'
import { parseAppImage, type AppImage } from '../../shared/domain/firmware/app-image'
import { toHex } from '../../shared/domain/firmware/checksums'
import { ecdsaKeyMaterial, readSignatureSector, rsaKeyMaterial, signatureSectorOffset, SIGNATURE_SECTOR_BYTES, type EcdsaCurve, type SignatureBlock } from '../../shared/domain/firmware/secure-boot-v2'

const esptool = path.join(import.meta.dirname, '../../../shared/fixtures/esptool')
const read = (...parts: string[]) => new Uint8Array(readFileSync(path.join(esptool, ...parts)))
const text = (...parts: string[]) => readFileSync(path.join(esptool, ...parts), 'utf8')
const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest())
const sha384 = (bytes: Uint8Array) => new Uint8Array(createHash('sha384').update(bytes).digest())
const pem = (name: string) => text('secure_images', name)
const blink = () => read('images', 'esp_idf_blink_esp32s2.bin')

function appImage(bytes: Uint8Array): AppImage {
  const result = parseAppImage(bytes, { sha256 })
  if (!result.ok) throw new Error(result.error.message)
  return result.image
}

const sectorOffsetOf = (bytes: Uint8Array) => signatureSectorOffset(appImage(bytes).imageLength)

function flip(bytes: Uint8Array, offset: number, mask = 0x01): Uint8Array {
  const copy = bytes.slice()
  copy[offset] = (copy[offset] as number) ^ mask
  return copy
}

function refusal(result: { ok: true } | { ok: false; error: { kind: string; message: string } }): { kind: string; message: string } {
  if (result.ok) throw new Error('expected a refusal, got ok')
  // Every refusal is a sentence an operator can act on.
  expect(result.error.message.length).toBeGreaterThan(30)
  return result.error
}

// --- A Secure Boot v2 signer, written from the block layout (espsecure's generate_*_signature_block) ------
// Used to sign the real blink app and to make a P-192 block, for which there is no fixture. It is checked
// against espsecure first: for the fixture's own key and image it must produce the fixture's block in
// every byte except the (randomised) ECDSA signature and the CRC over it.

function signatureBlock(signedRegion: Uint8Array, privateKey: KeyObject): Uint8Array {
  const block = new Uint8Array(1216)
  block[0] = 0xe7
  const publicKey = createPublicKey(privateKey)
  if (privateKey.asymmetricKeyType === 'rsa') {
    block[1] = 0x02
    block.set(sha256(signedRegion), 4)
    const jwk = publicKey.export({ format: 'jwk' })
    block.set(rsaKeyMaterial(Buffer.from(jwk.n!, 'base64url'), Buffer.from(jwk.e!, 'base64url').readUIntBE(0, 3)), 36)
    const signature = sign('sha256', signedRegion, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    block.set(signature.reverse(), 812)
  } else {
    const curves: Record<string, EcdsaCurve> = { prime192v1: 'P-192', prime256v1: 'P-256', secp384r1: 'P-384' }
    const curve = curves[privateKey.asymmetricKeyDetails!.namedCurve!]!
    const p384 = curve === 'P-384'
    const size = { 'P-192': 24, 'P-256': 32, 'P-384': 48 }[curve]
    const field = p384 ? 48 : 32
    block[1] = 0x03
    block[2] = p384 ? 1 : 0
    block.set(p384 ? sha384(signedRegion) : sha256(signedRegion), 4)
    const keyStart = p384 ? 52 : 36
    const point = publicKey.export({ format: 'der', type: 'spki' }).subarray(-2 * size)
    block.set(ecdsaKeyMaterial(curve, point.subarray(0, size), point.subarray(size)), keyStart)
    const rs = sign(p384 ? 'sha384' : 'sha256', signedRegion, { key: privateKey, dsaEncoding: 'ieee-p1363' })
    block.set(rs.subarray(0, size).reverse(), keyStart + 1 + 2 * field)
    block.set(rs.subarray(size).reverse(), keyStart + 1 + 3 * field)
  }
  new DataView(block.buffer).setUint32(1196, crc32(block.subarray(0, 1196)), true)
  return block
}

/** espsecure sign_data --version 2: pad to 4 KB with 0xFF, then a sector of blocks and 0xFF. */
function signSecureBootV2(image: Uint8Array, keys: KeyObject[]): Uint8Array {
  const padded = Math.ceil(image.length / SIGNATURE_SECTOR_BYTES) * SIGNATURE_SECTOR_BYTES
  const out = new Uint8Array(padded + SIGNATURE_SECTOR_BYTES).fill(0xff)
  out.set(image)
  keys.forEach((key, i) => out.set(signatureBlock(out.subarray(0, padded), key), padded + i * 1216))
  return out
}

function withCrcFixed(bytes: Uint8Array, blockOffset: number): Uint8Array {
  const copy = bytes.slice()
  new DataView(copy.buffer).setUint32(blockOffset + 1196, crc32(copy.subarray(blockOffset, blockOffset + 1196)), true)
  return copy
}

describe('the test signer matches espsecure', () => {
  it('signing the unsigned bootloader with the fixture ECDSA-256 key gives the fixture block but for r, s and CRC', () => {
    const unsigned = read('secure_images', 'bootloader_unsigned_v2.bin')
    const fixture = read('secure_images', 'bootloader_signed_v2_ecdsa256.bin')
    const ours = signSecureBootV2(unsigned, [createPrivateKey(pem('ecdsa256_secure_boot_signing_key.pem'))])
    expect(ours.length).toBe(fixture.length)
    const sector = unsigned.length
    const signatureFields = new Set([...Array(64).keys()].map((i) => sector + 101 + i))
    const crcField = new Set([0, 1, 2, 3].map((i) => sector + 1196 + i))
    const differing = [...ours.keys()].filter((i) => ours[i] !== fixture[i])
    expect(differing.every((i) => signatureFields.has(i) || crcField.has(i))).toBe(true)
  })
})

// --- Secure Boot v2 verification against espsecure verify_signature --version 2 ---------------------------

interface EspsecureVerify {
  valid: Map<number, 'RSA' | 'ECDSA'>
  verified: Map<number, 'RSA' | 'ECDSA'>
  invalid: Set<number>
}

function parseVerify(output: string): EspsecureVerify {
  const result: EspsecureVerify = { valid: new Map(), verified: new Map(), invalid: new Set() }
  for (const line of output.split('\n').filter((l) => l.trim() !== '')) {
    let m: RegExpExecArray | null
    if (/^espsecure\.py v\d+\.\d+\.\d+$/.test(line)) continue
    if ((m = /^Signature block (\d) is valid \((RSA|ECDSA)\)\.$/.exec(line))) result.valid.set(Number(m[1]), m[2] as 'RSA')
    else if ((m = /^Signature block (\d) verification successful using the supplied key \((RSA|ECDSA)\)\.$/.exec(line))) result.verified.set(Number(m[1]), m[2] as 'RSA')
    else if ((m = /^Signature block (\d) invalid\. Skipping\.$/.exec(line))) result.invalid.add(Number(m[1]))
    else throw new Error(`espsecure printed a line this test does not compare: ${line}`)
  }
  return result
}

function verified(result: SecureBootVerification) {
  if (!result.ok) throw new Error(result.error.message)
  return result
}

describe('Secure Boot v2 verification, against espsecure verify_signature', () => {
  const cases = [
    ['bootloader_signed_v2_rsa', 'rsa_secure_boot_signing_pubkey.pem'],
    ['bootloader_signed_v2_ecdsa256', 'ecdsa256_secure_boot_signing_pubkey.pem'],
    ['bootloader_signed_v2_ecdsa384', 'ecdsa384_secure_boot_signing_pubkey.pem'],
  ] as const
  for (const [name, keyFile] of cases) {
    it(`${name} verifies with ${keyFile}, block for block`, () => {
      const bytes = read('secure_images', `${name}.bin`)
      const expected = parseVerify(text('expected', `${name}.verify.txt`))
      const result = verified(verifySecureBootV2(bytes, sectorOffsetOf(bytes), { trustedKeys: [pem(keyFile)] }))
      expect(result.signed).toBe(true)
      for (const index of [0, 1, 2]) {
        const block = result.blocks.find((b) => b.index === index)
        if (expected.invalid.has(index)) {
          expect(block).toBeUndefined()
          continue
        }
        expect(block, `block ${index}`).toBeDefined()
        expect(block!.scheme.startsWith(expected.valid.get(index)!)).toBe(true)
        expect(block!.trusted).toBe(expected.verified.has(index))
      }
      expect(expected.valid.size + expected.invalid.size).toBe(3)
    })
  }

  it('the multi-signed bootloader verifies with each of its three keys, and says which block is whose', () => {
    const bytes = read('secure_images', 'bootloader_multi_signed_v2_rsa.bin')
    const keys = ['rsa_secure_boot_signing_key.pem', 'rsa_secure_boot_signing_key2.pem', 'rsa_secure_boot_signing_key3.pem']
    keys.forEach((keyFile, index) => {
      const result = verified(verifySecureBootV2(bytes, sectorOffsetOf(bytes), { trustedKeys: [pem(keyFile)] }))
      expect(result.blocks.map((b) => b.trusted)).toEqual([0, 1, 2].map((i) => i === index))
    })
    // Without trusted keys: all three verify with their own keys, digests as espsecure printed them.
    const digests = [...text('expected', 'bootloader_multi_signed_v2_rsa.signature_info_v2.txt').matchAll(/Public key digest for block \d: ([0-9a-f ]+)/g)].map((m) => m[1]!.replaceAll(' ', ''))
    expect(verified(verifySecureBootV2(bytes, sectorOffsetOf(bytes))).blocks.map((b) => b.publicKeyDigest)).toEqual(digests)
  })

  it("a key's eFuse digest matches espsecure digest_sbv2_public_key, from a public or a private PEM", () => {
    expect(toHex(secureBootKeyDigest(pem('rsa_secure_boot_signing_pubkey.pem')))).toBe(toHex(read('expected', 'rsa_key.sbv2_digest.bin')))
    expect(toHex(secureBootKeyDigest(pem('rsa_secure_boot_signing_key.pem')))).toBe(toHex(read('secure_images', 'rsa_public_key_digest.bin')))
    expect(toHex(secureBootKeyDigest(pem('ecdsa256_secure_boot_signing_key.pem')))).toBe(toHex(read('expected', 'ecdsa256_key.sbv2_digest.bin')))
    expect(toHex(secureBootKeyDigest(pem('ecdsa384_secure_boot_signing_pubkey.pem')))).toBe(toHex(read('expected', 'ecdsa384_key.sbv2_digest.bin')))
    expect(() => secureBootKeyDigest(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString())).toThrow(/RSA-3072/)
  })

  it("openssl's pre-calculated signatures (RSA, ECDSA-256) verify once placed in a block", () => {
    const unsigned = read('secure_images', 'bootloader_unsigned_v2.bin')
    const offset = unsigned.length
    // RSA: openssl writes the PSS signature big endian; the block keeps it little endian.
    const rsa = read('secure_images', 'bootloader_signed_v2_rsa.bin')
    rsa.set(read('secure_images', 'pre_calculated_bootloader_signature_rsa.bin').reverse(), offset + 812)
    const rsaSigned = withCrcFixed(rsa, offset)
    expect(verified(verifySecureBootV2(rsaSigned, offset, { trustedKeys: [pem('rsa_secure_boot_signing_pubkey.pem')] })).blocks[0]!.trusted).toBe(true)
    // ECDSA: openssl writes DER; r and s go into the block little endian.
    const der = read('secure_images', 'pre_calculated_bootloader_signature_ecdsa256.bin')
    const rs = Buffer.from(sign('sha256', Buffer.alloc(0), { key: createPrivateKey(pem('ecdsa256_secure_boot_signing_key.pem')), dsaEncoding: 'ieee-p1363' })).fill(0)
    const { r, s } = derSignature(der)
    rs.set(r, 32 - r.length)
    rs.set(s, 64 - s.length)
    const ecdsa = read('secure_images', 'bootloader_signed_v2_ecdsa256.bin')
    ecdsa.set(rs.subarray(0, 32).reverse(), offset + 101)
    ecdsa.set(rs.subarray(32).reverse(), offset + 133)
    expect(verified(verifySecureBootV2(withCrcFixed(ecdsa, offset), offset, { trustedKeys: [pem('ecdsa256_secure_boot_signing_pubkey.pem')] })).blocks[0]!.trusted).toBe(true)
  })

  function derSignature(der: Uint8Array): { r: Uint8Array; s: Uint8Array } {
    // SEQUENCE { INTEGER r, INTEGER s }, short lengths (P-256).
    const rLength = der[3] as number
    const r = der.subarray(4, 4 + rLength)
    const s = der.subarray(6 + rLength, 6 + rLength + (der[5 + rLength] as number))
    const strip = (n: Uint8Array) => (n[0] === 0 ? n.subarray(1) : n)
    return { r: strip(r), s: strip(s) }
  }

  describe('refusals, each with its reason', () => {
    const rsa = read('secure_images', 'bootloader_signed_v2_rsa.bin')
    const offset = rsa.length - SIGNATURE_SECTOR_BYTES

    it('a flipped byte in the signed bytes: the block was made for other bytes', () => {
      const error = refusal(verifySecureBootV2(flip(rsa, offset - 1), offset))
      expect(error).toMatchObject({ kind: 'image-digest-mismatch', index: 0 })
      expect(error.message).toContain('changed after it was signed')
    })

    it('the same flip with the block digest rewritten to match: the signature no longer verifies', () => {
      const changed = flip(rsa, offset - 1)
      changed.set(sha256(changed.subarray(0, offset)), offset + 4)
      expect(refusal(verifySecureBootV2(withCrcFixed(changed, offset), offset))).toMatchObject({ kind: 'bad-signature', index: 0, scheme: 'RSA-3072' })
    })

    it('a flipped byte in the signature: the CRC fails, and with the CRC fixed the signature fails', () => {
      for (const [name, signatureOffset] of [
        ['bootloader_signed_v2_rsa', 812],
        ['bootloader_signed_v2_ecdsa256', 101],
        ['bootloader_signed_v2_ecdsa384', 52 + 97],
      ] as const) {
        const flipped = flip(read('secure_images', `${name}.bin`), offset + signatureOffset + 5)
        const crc = refusal(verifySecureBootV2(flipped, offset))
        expect(crc).toMatchObject({ kind: 'block-crc-mismatch', index: 0 })
        expect(crc.message).toContain('damaged')
        const bad = refusal(verifySecureBootV2(withCrcFixed(flipped, offset), offset))
        expect(bad.kind, name).toBe('bad-signature')
        expect(bad.message).toContain('does not verify with the key the block carries')
      }
    })

    it("RSA constants that do not belong to the modulus are refused (the chip computes with them)", () => {
      const changed = withCrcFixed(flip(rsa, offset + 36 + 388 + 10), offset)
      expect(refusal(verifySecureBootV2(changed, offset))).toMatchObject({ kind: 'inconsistent-rsa-key' })
    })

    it('the wrong key is refused, naming both digests', () => {
      const error = refusal(verifySecureBootV2(rsa, offset, { trustedKeys: [pem('ecdsa256_secure_boot_signing_pubkey.pem')] }))
      expect(error).toMatchObject({ kind: 'untrusted-key' })
      expect(error.message).toContain(toHex(read('expected', 'rsa_key.sbv2_digest.bin')))
      expect(error.message).toContain(toHex(read('expected', 'ecdsa256_key.sbv2_digest.bin')))
      // A P-384 block is not a P-256 key's, though both are ECDSA.
      const p384 = read('secure_images', 'bootloader_signed_v2_ecdsa384.bin')
      expect(refusal(verifySecureBootV2(p384, offset, { trustedKeys: [pem('ecdsa256_secure_boot_signing_pubkey.pem')] })).kind).toBe('untrusted-key')
    })

    it('an unsigned image is refused when a trusted key is demanded, and passes as unsigned otherwise', () => {
      const unsigned = read('secure_images', 'bootloader_unsigned_v2.bin')
      expect(refusal(verifySecureBootV2(unsigned, sectorOffsetOf(unsigned), { trustedKeys: [pem('rsa_secure_boot_signing_pubkey.pem')] })).kind).toBe('not-signed')
      expect(verifySecureBootV2(unsigned, sectorOffsetOf(unsigned))).toEqual({ ok: true, signed: false, blocks: [] })
    })

    it('a truncated sector is refused as truncated', () => {
      expect(refusal(verifySecureBootV2(rsa.subarray(0, rsa.length - 100), offset)).kind).toBe('bad-sector')
    })

    it('a trusted key that Secure Boot v2 cannot use is refused', () => {
      const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString()
      expect(refusal(verifySecureBootV2(rsa, offset, { trustedKeys: [ed25519] })).kind).toBe('bad-trusted-key')
    })
  })

  it('ECDSA P-192 (no fixture): a block made with a fresh key reads and verifies, and a flipped image byte fails', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime192v1' })
    const signed = signSecureBootV2(read('secure_images', 'bootloader_unsigned_v2.bin'), [privateKey])
    const offset = sectorOffsetOf(signed)
    const result = verified(verifySecureBootV2(signed, offset, { trustedKeys: [publicKey.export({ type: 'spki', format: 'pem' }).toString()] }))
    expect(result.blocks).toMatchObject([{ index: 0, scheme: 'ECDSA-P192', trusted: true }])
    const sector = readSignatureSector(signed, offset, { sha256, sha384 })
    const block = (sector.ok && sector.sector?.blocks[0]) as SignatureBlock
    expect(block.keyMaterial).toHaveLength(65)
    expect(checkSignatureBlock(flip(signed, offset - 1).subarray(0, offset), block)).toMatchObject({ kind: 'bad-signature' })
  })
})

// --- The release key -------------------------------------------------------------------------------------

const temporaryDirs: string[] = []
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'release-key-'))
  temporaryDirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Decrypts release-key.enc by its documented layout: "ESPFC-RK1" | nonce (12) | tag (16) | AES-256-GCM ciphertext. */
function decryptByHand(dir: string): string {
  const sealed = readFileSync(path.join(dir, RELEASE_KEY_FILE))
  const secret = readFileSync(path.join(dir, RELEASE_KEY_SECRET_FILE))
  const header = sealed.subarray(0, 9)
  expect(header.toString()).toBe('ESPFC-RK1')
  const decipher = createDecipheriv('aes-256-gcm', secret, sealed.subarray(9, 21))
  decipher.setAAD(header)
  decipher.setAuthTag(sealed.subarray(21, 37))
  return Buffer.concat([decipher.update(sealed.subarray(37)), decipher.final()]).toString()
}

/** Every way a caller could look at an object: JSON, util.inspect with hidden fields, property values. */
function everythingVisibleIn(value: unknown): string {
  const json = JSON.stringify(value) ?? ''
  const inspected = inspect(value, { depth: 20, showHidden: true, getters: true })
  const properties = value !== null && typeof value === 'object' ? Reflect.ownKeys(value).map((k) => String((value as Record<PropertyKey, unknown>)[k])).join('\n') : ''
  return `${json}\n${inspected}\n${properties}`
}

describe('the site release key', () => {
  it('is made once, kept encrypted, and the same key comes back in a new instance', () => {
    const dir = dataDir()
    const first = openFileReleaseKey(dir)
    expect(first.algorithm).toBe('ECDSA-P256-SHA256')
    expect(first.keyId).toBe(releaseKeyId(first.publicKeyPem))
    expect(first.keyId).toMatch(/^[0-9a-f]{64}$/)
    const second = openFileReleaseKey(dir)
    expect(second.keyId).toBe(first.keyId)
    expect(second.publicKeyPem).toBe(first.publicKeyPem)
    // What one signs, the other's public key verifies.
    const message = new TextEncoder().encode('artifact')
    expect(createPublicKey(second.publicKeyPem).type).toBe('public')
    expect(verifySignature(second.publicKeyPem, message, first.sign(message))).toBe(true)
  })

  it('release-key.enc is not a PEM; it decrypts, by its documented layout, to the PKCS#8 of this key', () => {
    const dir = dataDir()
    const key = openFileReleaseKey(dir)
    const sealed = readFileSync(path.join(dir, RELEASE_KEY_FILE))
    expect(sealed.includes('BEGIN')).toBe(false)
    expect(sealed.includes('PRIVATE')).toBe(false)
    const plain = decryptByHand(dir)
    expect(plain).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    expect(createPublicKey(createPrivateKey(plain)).export({ type: 'spki', format: 'pem' })).toBe(key.publicKeyPem)
    // The private scalar is nowhere in the file.
    const d = createPrivateKey(plain).export({ format: 'jwk' }).d!
    expect(sealed.toString('base64url').includes(d)).toBe(false)
  })

  it('keeps its files owner-only (0600) on POSIX', () => {
    if (process.platform === 'win32') return
    const dir = dataDir()
    openFileReleaseKey(dir)
    expect(statSync(path.join(dir, RELEASE_KEY_SECRET_FILE)).mode & 0o777).toBe(0o600)
    expect(statSync(path.join(dir, RELEASE_KEY_FILE)).mode & 0o777).toBe(0o600)
    expect(readFileSync(path.join(dir, RELEASE_KEY_SECRET_FILE))).toHaveLength(32)
  })

  it('never hands out the private key: not in the key object, not in a manifest', () => {
    const dir = dataDir()
    const key = openFileReleaseKey(dir)
    const privatePem = decryptByHand(dir)
    const jwk = createPrivateKey(privatePem).export({ format: 'jwk' })
    const result = importArtifact(blink(), options(key))
    for (const visible of [everythingVisibleIn(key), everythingVisibleIn(result)]) {
      expect(visible).not.toContain('PRIVATE KEY')
      expect(visible).not.toContain(jwk.d)
      expect(visible).not.toContain(privatePem.split('\n')[1])
    }
    expect(Object.keys(key).sort()).toEqual(['algorithm', 'keyId', 'publicKeyPem', 'sign'])
    expect(Object.isFrozen(key)).toBe(true)
  })

  it('a stored key whose secret is missing is an error, and no new key replaces it', () => {
    const dir = dataDir()
    openFileReleaseKey(dir)
    const before = readFileSync(path.join(dir, RELEASE_KEY_FILE))
    rmSync(path.join(dir, RELEASE_KEY_SECRET_FILE))
    expect(() => openFileReleaseKey(dir)).toThrow(expect.objectContaining({ problem: 'secret-missing' }))
    expect(readFileSync(path.join(dir, RELEASE_KEY_FILE))).toEqual(before)
    expect(existsSync(path.join(dir, RELEASE_KEY_SECRET_FILE))).toBe(false)
  })

  it('a replaced secret or an altered key file does not decrypt', () => {
    const dir = dataDir()
    openFileReleaseKey(dir)
    const secretPath = path.join(dir, RELEASE_KEY_SECRET_FILE)
    const secret = readFileSync(secretPath)
    writeFileSync(secretPath, flip(secret, 0))
    expect(() => openFileReleaseKey(dir)).toThrow(ReleaseKeyError)
    expect(() => openFileReleaseKey(dir)).toThrow(/does not decrypt/)
    writeFileSync(secretPath, secret)
    const keyPath = path.join(dir, RELEASE_KEY_FILE)
    const sealed = readFileSync(keyPath)
    writeFileSync(keyPath, flip(sealed, sealed.length - 1))
    expect(() => openFileReleaseKey(dir)).toThrow(expect.objectContaining({ problem: 'undecryptable' }))
    writeFileSync(secretPath, Buffer.alloc(16))
    expect(() => openFileReleaseKey(dir)).toThrow(expect.objectContaining({ problem: 'bad-secret' }))
  })

  it('the vault is written once: a second save is refused rather than overwriting the key', () => {
    const dir = dataDir()
    const vault = new FileReleaseKeyVault(dir)
    vault.save(new Uint8Array([1, 2, 3]))
    expect(() => vault.save(new Uint8Array([4, 5, 6]))).toThrow(expect.objectContaining({ problem: 'already-exists' }))
    expect([...vault.load()!]).toEqual([1, 2, 3])
    const secrets = new FileKeyEncryptionSecret(dir)
    secrets.create()
    expect(() => secrets.create()).toThrow(expect.objectContaining({ problem: 'already-exists' }))
  })

  it('under safeStorage (desktop), the secret is sealed by the OS and no plain secret file is written', () => {
    const dir = dataDir()
    // Stands in for Electron's safeStorage: a reversible transformation the test can see through.
    const sealer: OsSecretSealer = {
      isEncryptionAvailable: () => true,
      encryptString: (plain) => Buffer.from(`sealed:${plain}`).reverse(),
      decryptString: (sealed) => Buffer.from(sealed).reverse().toString().replace(/^sealed:/, ''),
    }
    const open = () => openReleaseKey(new FileReleaseKeyVault(dir), new SafeStorageKeyEncryptionSecret(dir, sealer))
    const first = open()
    expect(open().keyId).toBe(first.keyId)
    expect(existsSync(path.join(dir, RELEASE_KEY_SEALED_SECRET_FILE))).toBe(true)
    expect(existsSync(path.join(dir, RELEASE_KEY_SECRET_FILE))).toBe(false)
    const unavailable = new SafeStorageKeyEncryptionSecret(dir, { ...sealer, isEncryptionAvailable: () => false })
    expect(() => openReleaseKey(new FileReleaseKeyVault(dir), unavailable)).toThrow(expect.objectContaining({ problem: 'unavailable' }))
  })
})

function verifySignature(publicKeyPem: string, message: Uint8Array, signature: Uint8Array): boolean {
  return verify('sha256', message, publicKeyPem, signature)
}

// --- Artifacts -------------------------------------------------------------------------------------------

let siteKey: ReleaseKey | undefined
function releaseKey(): ReleaseKey {
  siteKey ??= openReleaseKey(memoryVault(), memorySecrets())
  return siteKey
}

function memoryVault() {
  let stored: Uint8Array | null = null
  return { load: () => stored, save: (bytes: Uint8Array) => void (stored = bytes) }
}

function memorySecrets() {
  let secret: Uint8Array | null = null
  return { load: () => secret, create: () => (secret = new Uint8Array(32).map(() => Math.floor(Math.random() * 256))) }
}

const NOW = 1_760_000_000_000
function options(key: ReleaseKey = releaseKey(), extra: Partial<ImportArtifactOptions> = {}): ImportArtifactOptions {
  return { sha256, now: () => NOW, releaseKey: key, ...extra }
}

function imported(result: ArtifactImport): ArtifactManifest {
  if (!result.ok) throw new Error(result.error.message)
  return result.manifest
}

function refused(result: ArtifactImport | ReturnType<typeof verifyArtifact>): ArtifactError {
  return refusal(result) as ArtifactError
}

/**
 * The blink app with another version string in its esp_app_desc_t, and the checksum and appended SHA-256
 * made right again: a real image of a version the test needs.
 */
function withAppVersion(bytes: Uint8Array, version: string): Uint8Array {
  const image = appImage(bytes)
  const out = bytes.slice()
  const first = image.segments[0]!
  const field = first.dataOffset + 16
  const replacement = new Uint8Array(32)
  replacement.set(new TextEncoder().encode(version))
  const last = image.segments.at(-1)!
  const end = last.dataOffset + last.length
  const checksumOffset = end + (15 - (end % 16))
  for (let i = 0; i < 32; i++) out[checksumOffset] = (out[checksumOffset] as number) ^ (out[field + i] as number) ^ (replacement[i] as number)
  out.set(replacement, field)
  out.set(sha256(out.subarray(0, image.imageLength - 32)), image.imageLength - 32)
  return out
}

/** esptool image_info's "Application information" lines. */
function esptoolAppInfo(name: string): Record<string, string> {
  const info: Record<string, string> = {}
  const section = text('expected', `${name}.image_info.txt`).split('Application information')[1] ?? ''
  for (const line of section.split('\n')) {
    const m = /^([^:=]+): (.*)$/.exec(line)
    if (m) info[m[1]!] = m[2]!
  }
  return info
}

describe('importing an artifact', () => {
  it('the real blink app: a manifest whose fields are what esptool image_info reads', () => {
    const bytes = blink()
    const manifest = imported(importArtifact(bytes, options(releaseKey(), { expectedChip: 'ESP32-S2' })))
    const esptoolInfo = esptoolAppInfo('esp_idf_blink_esp32s2.bin')
    expect(manifest).toEqual({
      version: esptoolInfo['App version'],
      project: esptoolInfo['Project name'],
      chip: 'ESP32-S2',
      idf: esptoolInfo['ESP-IDF'],
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      secureBoot: { blocks: [] },
      keyId: releaseKey().keyId,
      signedAt: NOW,
      signature: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
    })
    expect(manifest.version).toBe('qa-test-v5.0-20220830-4-g4532e6')
    expect(verifyArtifact(bytes, manifest, releaseKey().publicKeyPem)).toEqual({ ok: true })
  })

  it('hello-world-signed.bin (ESP32, Secure Boot v1): an app with no v2 block', () => {
    const manifest = imported(importArtifact(read('secure_images', 'hello-world-signed.bin'), options()))
    const esptoolInfo = esptoolAppInfo('hello-world-signed.bin')
    expect(manifest).toMatchObject({ chip: 'ESP32', project: esptoolInfo['Project name'], version: esptoolInfo['App version'], idf: esptoolInfo['ESP-IDF'], secureBoot: { blocks: [] } })
  })

  it('an app signed for Secure Boot v2 lists its verified blocks and their eFuse key digests', () => {
    const signed = signSecureBootV2(blink(), [createPrivateKey(pem('rsa_secure_boot_signing_key.pem')), createPrivateKey(pem('ecdsa256_secure_boot_signing_key.pem'))])
    const manifest = imported(importArtifact(signed, options(releaseKey(), { secureBootKeys: [pem('rsa_secure_boot_signing_pubkey.pem')] })))
    expect(manifest.size).toBe(184320 + 4096)
    expect(manifest.secureBoot.blocks).toEqual([
      { index: 0, scheme: 'RSA-3072', publicKeyDigest: toHex(read('expected', 'rsa_key.sbv2_digest.bin')) },
      { index: 1, scheme: 'ECDSA-P256', publicKeyDigest: toHex(read('expected', 'ecdsa256_key.sbv2_digest.bin')) },
    ])
    expect(verifyArtifact(signed, manifest, releaseKey().publicKeyPem)).toEqual({ ok: true })
  })

  it('refuses an app signed by a key the devices do not trust, or not signed when a key is demanded', () => {
    const signed = signSecureBootV2(blink(), [createPrivateKey(pem('rsa_secure_boot_signing_key.pem'))])
    const wrongKey = refused(importArtifact(signed, options(releaseKey(), { secureBootKeys: [pem('ecdsa384_secure_boot_signing_pubkey.pem')] })))
    expect(wrongKey).toMatchObject({ kind: 'secure-boot', cause: { kind: 'untrusted-key' } })
    expect(wrongKey.message).toContain('would refuse to boot it')
    expect(refused(importArtifact(blink(), options(releaseKey(), { secureBootKeys: [pem('rsa_secure_boot_signing_pubkey.pem')] })))).toMatchObject({ kind: 'secure-boot', cause: { kind: 'not-signed' } })
  })

  it('refuses a signed app changed after signing (a byte in the padding the digest covers)', () => {
    const signed = signSecureBootV2(blink(), [createPrivateKey(pem('rsa_secure_boot_signing_key.pem'))])
    const offset = sectorOffsetOf(signed)
    const error = refused(importArtifact(flip(signed, offset - 10), options()))
    expect(error).toMatchObject({ kind: 'secure-boot', cause: { kind: 'image-digest-mismatch' } })
  })

  it('refuses another chip’s image', () => {
    const error = refused(importArtifact(blink(), options(releaseKey(), { expectedChip: 'ESP32-C3' })))
    expect(error.kind).toBe('wrong-chip')
    expect(error.message).toBe('Image for ESP32-S2 but the board is an ESP32-C3.')
  })

  it('refuses what is not an application', () => {
    expect(refused(importArtifact(read('secure_images', 'bootloader_signed_v2_rsa.bin'), options())).kind).toBe('not-an-app')
    expect(refused(importArtifact(read('images', 'bootloader_esp32_v5_2.bin'), options()))).toMatchObject({ kind: 'not-an-app', imageKind: 'bootloader' })
    const notAnImage = refused(importArtifact(read('images', 'one_kb.bin'), options()))
    expect(notAnImage).toMatchObject({ kind: 'bad-image', cause: { kind: 'bad-magic', found: 0xed } })
    expect(refused(importArtifact(read('images', 'partitions_singleapp.bin'), options())).message).toContain('partition table')
    expect(refused(importArtifact(new Uint8Array(0), options())).kind).toBe('bad-image')
  })

  it('refuses a truncated image, and a signed one cut inside its signature sector', () => {
    expect(refused(importArtifact(blink().subarray(0, 100_000), options()))).toMatchObject({ kind: 'bad-image', cause: { kind: 'truncated-segment' } })
    expect(refused(importArtifact(blink().subarray(0, blink().length - 1), options()))).toMatchObject({ kind: 'bad-image', cause: { kind: 'truncated-footer' } })
    const signed = signSecureBootV2(blink(), [createPrivateKey(pem('ecdsa384_secure_boot_signing_key.pem'))])
    const cut = refused(importArtifact(signed.subarray(0, signed.length - 2000), options()))
    expect(cut).toMatchObject({ kind: 'secure-boot', cause: { kind: 'bad-sector', cause: { kind: 'truncated-sector' } } })
    expect(cut.message).toContain('truncated')
  })

  it('refuses a flipped byte anywhere in the image', () => {
    const bytes = blink()
    const image = appImage(bytes)
    // In segment data: the XOR checksum catches it.
    expect(refused(importArtifact(flip(bytes, image.segments[2]!.dataOffset + 7), options()))).toMatchObject({ kind: 'bad-image', cause: { kind: 'checksum-mismatch' } })
    // In the app description's version text, checksum compensated: the appended SHA-256 catches it.
    const versionByte = image.segments[0]!.dataOffset + 16
    const sneaky = flip(flip(bytes, versionByte, 0x02), versionByte + 1, 0x02)
    expect(refused(importArtifact(sneaky, options()))).toMatchObject({ kind: 'bad-image', cause: { kind: 'sha256-mismatch' } })
  })

  it('refuses a version below the minimum, and one it cannot compare with it', () => {
    const old = withAppVersion(blink(), 'v1.2.3-4-gabc1234')
    expect(appImage(old).appDescription?.version).toBe('v1.2.3-4-gabc1234')
    const downgrade = refused(importArtifact(old, options(releaseKey(), { minimumVersion: '1.3.0' })))
    expect(downgrade).toMatchObject({ kind: 'below-minimum-version', version: 'v1.2.3-4-gabc1234', minimumVersion: '1.3.0' })
    expect(downgrade.message).toContain('downgrade')
    expect(imported(importArtifact(old, options(releaseKey(), { minimumVersion: 'v1.2.3' }))).version).toBe('v1.2.3-4-gabc1234')
    expect(imported(importArtifact(withAppVersion(blink(), '1.3.0'), options(releaseKey(), { minimumVersion: '1.3.0' }))).version).toBe('1.3.0')
    // The real blink's version ("qa-test-v5.0-…") has no leading number: no order, no guess.
    expect(refused(importArtifact(blink(), options(releaseKey(), { minimumVersion: '5.0' }))).kind).toBe('incomparable-version')
  })
})

describe('verifying an artifact before it is served', () => {
  const bytes = blink()
  const manifest = () => imported(importArtifact(bytes, options()))

  it('passes after a round trip through JSON, key order shuffled', () => {
    const original = manifest()
    const shuffled = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(original).reverse()))) as ArtifactManifest
    expect(verifyArtifact(bytes, shuffled, releaseKey().publicKeyPem)).toEqual({ ok: true })
  })

  it('refuses a flipped byte, a truncated file and a swapped file', () => {
    const m = manifest()
    expect(refused(verifyArtifact(flip(bytes, 5000), m, releaseKey().publicKeyPem)).kind).toBe('sha256-mismatch')
    expect(refused(verifyArtifact(bytes.subarray(0, bytes.length - 1), m, releaseKey().publicKeyPem)).kind).toBe('size-mismatch')
    const other = read('secure_images', 'hello-world-signed.bin')
    expect(refused(verifyArtifact(other, { ...m, size: other.length }, releaseKey().publicKeyPem)).kind).toBe('sha256-mismatch')
  })

  it('refuses a manifest changed after signing', () => {
    const m = manifest()
    for (const changed of [
      { ...m, version: '99.0.0' },
      { ...m, chip: 'ESP32' as const },
      { ...m, signedAt: m.signedAt + 1 },
      { ...m, secureBoot: { blocks: [{ index: 0, scheme: 'RSA-3072' as const, publicKeyDigest: '00'.repeat(32) }] } },
    ]) {
      const error = refused(verifyArtifact(bytes, changed, releaseKey().publicKeyPem))
      expect(error.kind).toBe('bad-signature')
    }
  })

  it('refuses an unsigned manifest, a malformed one and a forged signature', () => {
    const m = manifest()
    expect(refused(verifyArtifact(bytes, { ...m, signature: '' }, releaseKey().publicKeyPem)).kind).toBe('unsigned')
    expect(refused(verifyArtifact(bytes, { ...m, signature: 'not base64!' }, releaseKey().publicKeyPem))).toMatchObject({ kind: 'malformed-manifest', field: 'signature' })
    expect(refused(verifyArtifact(bytes, { ...m, size: '182368' } as unknown as ArtifactManifest, releaseKey().publicKeyPem))).toMatchObject({ kind: 'malformed-manifest', field: 'size' })
    const { signature: _drop, ...withoutSignature } = m
    expect(refused(verifyArtifact(bytes, withoutSignature as ArtifactManifest, releaseKey().publicKeyPem))).toMatchObject({ kind: 'malformed-manifest', field: 'signature' })
    // A signature by a key of the right kind that is not the site's, over the very same payload.
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    const forged = { ...m, signature: sign('sha256', manifestSigningPayload(m), stranger).toString('base64') }
    expect(refused(verifyArtifact(bytes, forged, releaseKey().publicKeyPem)).kind).toBe('bad-signature')
  })

  it("refuses another console's artifact (another release key)", () => {
    const otherConsole = openFileReleaseKey(dataDir())
    const theirs = imported(importArtifact(bytes, options(otherConsole)))
    const error = refused(verifyArtifact(bytes, theirs, releaseKey().publicKeyPem))
    expect(error.kind).toBe('wrong-key')
    // Claiming our key id does not help: the signature is still theirs.
    expect(refused(verifyArtifact(bytes, { ...theirs, keyId: releaseKey().keyId }, releaseKey().publicKeyPem)).kind).toBe('bad-signature')
  })
})

describe('firmware versions', () => {
  it('reads semver and git describe', () => {
    expect(parseFirmwareVersion('v1.2.3-4-gabc1234-dirty')).toEqual({ release: [1, 2, 3], preRelease: [], commitsSinceTag: 4, commit: 'abc1234' })
    expect(parseFirmwareVersion('v5.2-dev-254-g1950b15')).toEqual({ release: [5, 2], preRelease: ['dev'], commitsSinceTag: 254, commit: '1950b15' })
    expect(parseFirmwareVersion('v3.3-beta3-21-g0706bd0d1-dirty')).toEqual({ release: [3, 3], preRelease: ['beta', 3], commitsSinceTag: 21, commit: '0706bd0d1' })
    expect(parseFirmwareVersion('1.0.0-rc.1+build.5')).toEqual({ release: [1, 0, 0], preRelease: ['rc', 1], commitsSinceTag: 0 })
    expect(parseFirmwareVersion('qa-test-v5.0-20220830-4-g4532e6')).toBeNull()
    expect(parseFirmwareVersion('latest')).toBeNull()
    expect(parseFirmwareVersion('')).toBeNull()
  })

  it('orders them as a release engineer would', () => {
    const ascending = ['0.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-beta2', '1.0.0-beta10', '1.0.0-rc.1', '1.0.0', 'v1.0.0-3-gdeadbee', '1.0.1', '1.2', '1.10', 'v5.2-dev-254-g1950b15', 'v5.2', '5.2.1']
    for (let i = 0; i < ascending.length; i++) {
      for (let j = 0; j < ascending.length; j++) {
        expect(compareFirmwareVersions(ascending[i]!, ascending[j]!), `${ascending[i]} vs ${ascending[j]}`).toBe(Math.sign(i - j))
      }
    }
    expect(compareFirmwareVersions('1.2', '1.2.0')).toBe(0)
    expect(compareFirmwareVersions('v1.2.3', '1.2.3-dirty')).toBe(0)
    expect(compareFirmwareVersions('v1.2.3-4-gabc1234', 'v1.2.3-4-gabc1234-dirty')).toBe(0)
    // Same distance from one tag, different commits: nothing says which is newer.
    expect(compareFirmwareVersions('v1.2.3-4-gabc1234', 'v1.2.3-4-gdef5678')).toBeNull()
    expect(compareFirmwareVersions('qa-test-v5.0', '5.0')).toBeNull()
  })
})
