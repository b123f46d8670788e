// The Secure Boot v2 signature sector reader against espsecure (esptool v4.12.0), which nobody here wrote.
// shared/fixtures/esptool/expected/*.signature_info_v2.txt is espsecure's own account of each signed image:
// every line is read back into values and compared with what readSignatureSector returns, and the test
// fails on any line it does not understand. Each field espsecure does not print is checked against the
// key it was signed with (the fixture PEMs) and against an independent computation here: the image
// digests with node:crypto, the CRC with zlib, the signatures with node:crypto's own RSA-PSS and ECDSA.
import { createHash, createPublicKey, verify, constants, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { parseAppImage, type AppImage } from '../../shared/domain/firmware/app-image'
import { toHex } from '../../shared/domain/firmware/checksums'
import {
  SIGNATURE_BLOCK_BYTES,
  SIGNATURE_SECTOR_BYTES,
  ecdsaKeyMaterial,
  readImageSignatures,
  readSignatureSector,
  rsaKeyMaterial,
  signatureSectorOffset,
  type EcdsaSignatureBlock,
  type RsaSignatureBlock,
  type SignatureBlock,
  type SignatureSector,
  type SignatureSectorResult,
} from '../../shared/domain/firmware/secure-boot-v2'

const esptool = path.join(import.meta.dirname, '../../../shared/fixtures/esptool')
const read = (...parts: string[]) => new Uint8Array(readFileSync(path.join(esptool, ...parts)))
const text = (...parts: string[]) => readFileSync(path.join(esptool, ...parts), 'utf8')
const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest())
const sha384 = (bytes: Uint8Array) => new Uint8Array(createHash('sha384').update(bytes).digest())
const hashes = { sha256, sha384 }
const secureImage = (name: string) => read('secure_images', name)
const publicKey = (pemFile: string): KeyObject => createPublicKey(text('secure_images', pemFile))

function appImage(bytes: Uint8Array): AppImage {
  const result = parseAppImage(bytes, { sha256 })
  if (!result.ok) throw new Error(result.error.message)
  return result.image
}

function sectorOf(result: SignatureSectorResult): SignatureSector {
  if (!result.ok) throw new Error(result.error.message)
  if (!result.sector) throw new Error('expected a signature sector, found none')
  return result.sector
}

function blockAt(sector: SignatureSector, index: number): SignatureBlock {
  const slot = sector.slots[index]
  if (slot?.state !== 'block') throw new Error(`slot ${index} holds no block (${slot?.state})`)
  return slot.block
}

// --- espsecure signature_info_v2 output, read back into values -----------------------------------------

interface EspsecureBlockInfo {
  index: number
  valid: boolean
  keyType?: 'RSA' | 'ECDSA'
  publicKeyDigest?: string
}

function parseSignatureInfo(output: string): EspsecureBlockInfo[] {
  const blocks = new Map<number, EspsecureBlockInfo>()
  const block = (index: number) => blocks.get(index) ?? blocks.set(index, { index, valid: false }).get(index)!
  for (const line of output.split('\n').filter((l) => l.trim() !== '')) {
    let m: RegExpExecArray | null
    if (/^espsecure\.py v\d+\.\d+\.\d+$/.test(line)) continue
    if ((m = /^Signature block (\d) is valid \((RSA|ECDSA)\)\.$/.exec(line))) {
      Object.assign(block(Number(m[1])), { valid: true, keyType: m[2] })
    } else if ((m = /^Public key digest for block (\d): ((?:[0-9a-f]{2} ){31}[0-9a-f]{2})$/.exec(line))) {
      block(Number(m[1])).publicKeyDigest = (m[2] as string).replaceAll(' ', '')
    } else if ((m = /^Signature block (\d) absent\/invalid\. Skipping checking next blocks\.$/.exec(line))) {
      block(Number(m[1])).valid = false
    } else {
      throw new Error(`espsecure printed a line this test does not compare: ${line}`)
    }
  }
  return [...blocks.values()]
}

/** Which PEM each fixture's blocks were signed with (secure_images/README.md). */
const SIGNED_FIXTURES: { name: string; keys: string[] }[] = [
  { name: 'bootloader_signed_v2_rsa', keys: ['rsa_secure_boot_signing_pubkey.pem'] },
  { name: 'bootloader_signed_v2_ecdsa256', keys: ['ecdsa256_secure_boot_signing_pubkey.pem'] },
  { name: 'bootloader_signed_v2_ecdsa384', keys: ['ecdsa384_secure_boot_signing_pubkey.pem'] },
  {
    name: 'bootloader_multi_signed_v2_rsa',
    keys: ['rsa_secure_boot_signing_key.pem', 'rsa_secure_boot_signing_key2.pem', 'rsa_secure_boot_signing_key3.pem'],
  },
]

describe('Secure Boot v2 signature sector, against espsecure signature_info_v2', () => {
  for (const { name, keys } of SIGNED_FIXTURES) {
    it(`${name}: every block espsecure reports, field for field`, () => {
      const bytes = secureImage(`${name}.bin`)
      const image = appImage(bytes)
      // espsecure takes the last 4 KB of the file; the bootloader takes the 4 KB boundary after the image.
      // For a file espsecure signed they are the same place.
      expect(signatureSectorOffset(image.imageLength)).toBe(bytes.length - SIGNATURE_SECTOR_BYTES)
      const sector = sectorOf(readImageSignatures(bytes, image, hashes))
      expect(sector.fileOffset).toBe(bytes.length - SIGNATURE_SECTOR_BYTES)
      expect(sector.trailingBytes).toBe(0)

      const reported = parseSignatureInfo(text('expected', `${name}.signature_info_v2.txt`))
      expect(reported.filter((b) => b.valid)).toHaveLength(keys.length)
      for (const info of reported) {
        const slot = sector.slots[info.index]!
        if (!info.valid) {
          // espsecure's "absent/invalid": no magic here, or a block whose CRC fails.
          expect(slot.state === 'empty' || (slot.state === 'block' && !slot.block.crcOk)).toBe(true)
          continue
        }
        const block = blockAt(sector, info.index)
        expect(block.crcOk).toBe(true)
        expect(block.scheme.startsWith(info.keyType!)).toBe(true)
        // signature_info_v2 stops with an error when a digest does not match, so a printed block matches.
        expect(block.imageDigestMatches).toBe(true)
        expect(toHex(block.publicKeyDigest)).toBe(info.publicKeyDigest)
      }
      // The slots espsecure did not reach after the first absent one are erased flash.
      for (const slot of sector.slots.slice(keys.length)) expect(slot.state).toBe('empty')
      expect(sector.blocks.map((b) => b.index)).toEqual(keys.map((_, i) => i))
    })
  }

  it('hello-world-signed.bin (a Secure Boot v1 app) has no v2 block, as espsecure says', () => {
    const bytes = secureImage('hello-world-signed.bin')
    expect(parseSignatureInfo(text('expected', 'hello-world-signed.signature_info_v2.txt'))).toEqual([{ index: 0, valid: false }])
    const image = appImage(bytes)
    // The image ends 80 bytes before the end of the file (the v1 signature and padding), so the v2 sector
    // would start at the end of the file: there is none.
    expect(signatureSectorOffset(image.imageLength)).toBe(bytes.length)
    expect(readImageSignatures(bytes, image, hashes)).toEqual({ ok: true, sector: null })
    // espsecure's own rule (the last 4 KB) finds no block there either.
    const lastSector = sectorOf(readSignatureSector(bytes, bytes.length - SIGNATURE_SECTOR_BYTES, hashes))
    expect(lastSector.slots.map((s) => s.state)).toEqual(['empty', 'empty', 'empty'])
  })

  it('the unsigned bootloader the fixtures were signed from has no sector', () => {
    const bytes = secureImage('bootloader_unsigned_v2.bin')
    expect(readImageSignatures(bytes, appImage(bytes), hashes)).toEqual({ ok: true, sector: null })
    // Every signed fixture is this file plus a sector: the digest in each block is of these bytes.
    for (const { name } of SIGNED_FIXTURES) expect(secureImage(`${name}.bin`).subarray(0, bytes.length)).toEqual(bytes)
  })
})

describe('Secure Boot v2 block fields, against the keys that made them', () => {
  for (const { name, keys } of SIGNED_FIXTURES) {
    it(`${name}: digest, key, signature and CRC`, () => {
      const bytes = secureImage(`${name}.bin`)
      const sector = sectorOf(readImageSignatures(bytes, appImage(bytes), hashes))
      const signedRegion = bytes.subarray(0, sector.fileOffset)
      keys.forEach((pemFile, index) => {
        const block = blockAt(sector, index)
        const key = publicKey(pemFile)
        const raw = bytes.subarray(block.fileOffset, block.fileOffset + SIGNATURE_BLOCK_BYTES)
        expect(block.fileOffset).toBe(sector.fileOffset + index * SIGNATURE_BLOCK_BYTES)
        expect(block.storedCrc).toBe(crc32(raw.subarray(0, 1196)))
        expect(block.calculatedCrc).toBe(block.storedCrc)
        // The 16 bytes after the CRC are zero padding.
        expect([...raw.subarray(1200)]).toEqual(new Array(16).fill(0))
        expect(block.publicKeyDigest).toEqual(sha256(block.keyMaterial))
        if (block.scheme === 'RSA-3072') checkRsaBlock(block, key, signedRegion)
        else checkEcdsaBlock(block, key, signedRegion)
      })
    })
  }

  function checkRsaBlock(block: RsaSignatureBlock, key: KeyObject, signedRegion: Uint8Array) {
    expect(block.version).toBe(0x02)
    expect(block.imageDigestAlgorithm).toBe('SHA-256')
    expect(block.imageDigest).toEqual(sha256(signedRegion))
    const jwk = key.export({ format: 'jwk' })
    expect(Buffer.from(block.publicKey.modulus).toString('base64url')).toBe(jwk.n)
    expect(block.publicKey.exponent).toBe(Buffer.from(jwk.e!, 'base64url').readUIntBE(0, 3))
    // The Montgomery constants, checked by what they are rather than how espsecure computes them.
    const n = BigInt(`0x${toHex(block.publicKey.modulus)}`)
    expect(BigInt(`0x${toHex(block.publicKey.rInverse)}`)).toBe((1n << 6144n) % n)
    expect((n * BigInt(block.publicKey.mPrime)) % (1n << 32n)).toBe((1n << 32n) - 1n)
    expect(rsaKeyMaterial(block.publicKey.modulus, block.publicKey.exponent)).toEqual(block.keyMaterial)
    expect(block.signature).toHaveLength(384)
    const valid = verify('sha256', signedRegion, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, block.signature)
    expect(valid).toBe(true)
  }

  function checkEcdsaBlock(block: EcdsaSignatureBlock, key: KeyObject, signedRegion: Uint8Array) {
    const p384 = block.scheme === 'ECDSA-P384'
    expect(block.version).toBe(0x03)
    expect(block.imageDigestAlgorithm).toBe(p384 ? 'SHA-384' : 'SHA-256')
    expect(block.imageDigest).toEqual(p384 ? sha384(signedRegion) : sha256(signedRegion))
    const jwk = key.export({ format: 'jwk' })
    expect(block.publicKey.curve).toBe(jwk.crv)
    expect(block.publicKey.curveId).toBe(p384 ? 3 : 2)
    expect(Buffer.from(block.publicKey.x).toString('base64url')).toBe(jwk.x)
    expect(Buffer.from(block.publicKey.y).toString('base64url')).toBe(jwk.y)
    expect(ecdsaKeyMaterial(block.publicKey.curve, block.publicKey.x, block.publicKey.y)).toEqual(block.keyMaterial)
    expect(block.keyMaterial).toHaveLength(p384 ? 97 : 65)
    const signature = Buffer.concat([block.signature.r, block.signature.s])
    // espsecure signs SHA-384 of the image on P-384: a SHA-256 check must not pass.
    expect(verify(p384 ? 'sha384' : 'sha256', signedRegion, { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true)
    if (p384) expect(verify('sha256', signedRegion, { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(false)
  }

  it("each key's eFuse digest is espsecure digest_sbv2_public_key's", () => {
    const cases = [
      ['rsa_secure_boot_signing_pubkey.pem', 'expected/rsa_key.sbv2_digest.bin'],
      ['rsa_secure_boot_signing_pubkey.pem', 'secure_images/rsa_public_key_digest.bin'],
      ['ecdsa256_secure_boot_signing_pubkey.pem', 'expected/ecdsa256_key.sbv2_digest.bin'],
      ['ecdsa384_secure_boot_signing_pubkey.pem', 'expected/ecdsa384_key.sbv2_digest.bin'],
    ] as const
    for (const [pemFile, digestFile] of cases) {
      const key = publicKey(pemFile)
      const jwk = key.export({ format: 'jwk' })
      const material =
        jwk.kty === 'RSA'
          ? rsaKeyMaterial(Buffer.from(jwk.n!, 'base64url'), Buffer.from(jwk.e!, 'base64url').readUIntBE(0, 3))
          : ecdsaKeyMaterial(jwk.crv as 'P-256' | 'P-384', Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url'))
      expect(toHex(sha256(material)), `${pemFile} → ${digestFile}`).toBe(toHex(read(...digestFile.split('/'))))
    }
  })
})

describe('Secure Boot v2 sectors that are not whole', () => {
  const signed = secureImage('bootloader_signed_v2_rsa.bin')
  const offset = signed.length - SIGNATURE_SECTOR_BYTES

  it('a file cut inside the sector is truncated, not unsigned', () => {
    const result = readSignatureSector(signed.subarray(0, signed.length - 1), offset, hashes)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.error).toMatchObject({ kind: 'truncated-sector', sectorOffset: offset, fileLength: signed.length - 1 })
      expect(result.error.message).toContain('4096 bytes, but the file ends 4095 bytes into it')
    }
  })

  it('a sector offset off the 4 KB grid is refused', () => {
    const result = readSignatureSector(signed, offset - 16, hashes)
    expect(result).toMatchObject({ ok: false, error: { kind: 'invalid-offset', sectorOffset: offset - 16 } })
  })

  it('a flipped byte in a block fails its CRC; one in the signed bytes fails the digest', () => {
    const keyByte = signed.slice()
    keyByte[offset + 100] = (keyByte[offset + 100] as number) ^ 0x01
    const damaged = blockAt(sectorOf(readSignatureSector(keyByte, offset, hashes)), 0)
    expect(damaged.crcOk).toBe(false)
    expect(damaged.calculatedCrc).not.toBe(damaged.storedCrc)
    expect(damaged.imageDigestMatches).toBe(true)

    // The 0xFF padding between the image and the sector is covered by the digest, not by the image checksum.
    const paddingByte = signed.slice()
    paddingByte[offset - 1] = 0x00
    const moved = blockAt(sectorOf(readSignatureSector(paddingByte, offset, hashes)), 0)
    expect(moved.crcOk).toBe(true)
    expect(moved.imageDigestMatches).toBe(false)
  })

  it('a block with the magic but an unknown version or curve is unrecognised, not guessed', () => {
    const version = signed.slice()
    version[offset + 1] = 0x05
    expect(sectorOf(readSignatureSector(version, offset, hashes)).slots[0]).toMatchObject({ state: 'unrecognised', reason: expect.stringContaining('0x5') })

    const ecdsa = secureImage('bootloader_signed_v2_ecdsa256.bin')
    const curve = ecdsa.slice()
    curve[offset + 36] = 9
    expect(sectorOf(readSignatureSector(curve, offset, hashes)).slots[0]).toMatchObject({ state: 'unrecognised', reason: expect.stringContaining('curve id 9') })
    // A P-256 curve id in the SHA-384 layout is not a layout espsecure writes.
    const p384 = secureImage('bootloader_signed_v2_ecdsa384.bin').slice()
    p384[offset + 52] = 2
    expect(sectorOf(readSignatureSector(p384, offset, hashes)).slots[0]).toMatchObject({ state: 'unrecognised' })
  })

  it('bytes after the sector are counted and left alone', () => {
    const longer = new Uint8Array(signed.length + 8192).fill(0xff)
    longer.set(signed)
    const sector = sectorOf(readSignatureSector(longer, offset, hashes))
    expect(sector.trailingBytes).toBe(8192)
    expect(blockAt(sector, 0).imageDigestMatches).toBe(true)
  })
})
