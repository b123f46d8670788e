// The site's release key: the ECDSA P-256 key the console signs OTA artifact manifests with, so an image
// that was checked on import is provably the one served later. It is made on first use and kept only
// encrypted at rest. Nothing here returns the private key: the only thing a caller can do with it is sign.
//
// At rest: `release-key.enc` = header | 12-byte nonce | 16-byte GCM tag | AES-256-GCM(PKCS#8 PEM), under a
// 32-byte key-encryption secret that a KeyEncryptionSecretProvider keeps somewhere else:
//   - headless host: FileKeyEncryptionSecret, `release-key.secret` in the same data folder, mode 0600.
//     Be honest about what that buys: the database, a backup of it or a copy of release-key.enc alone
//     does not give the key away, but anyone who can read the whole data folder as the console's user
//     has both files and so the key. Mode 0600 keeps other local users out on POSIX; Windows ignores
//     the mode and relies on the profile folder's ACL.
//   - desktop host: SafeStorageKeyEncryptionSecret, the secret sealed by the OS keychain through
//     Electron's safeStorage (passed in by electron/main; the core never imports electron). On Linux
//     without a keyring safeStorage falls back to a fixed key ("basic_text"), which is no better than
//     the file: the host should check safeStorage.getSelectedStorageBackend() before choosing it.

import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { chmodSync, constants, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export const RELEASE_KEY_FILE = 'release-key.enc'
export const RELEASE_KEY_SECRET_FILE = 'release-key.secret'
export const RELEASE_KEY_SEALED_SECRET_FILE = 'release-key.secret.sealed'
/** What every manifest signature is: ECDSA over SHA-256 on P-256, DER-encoded (OpenSSL's and mbedTLS's default). */
export const RELEASE_KEY_ALGORITHM = 'ECDSA-P256-SHA256'

const KEY_ENCRYPTION_SECRET_BYTES = 32
/** Versioned so a later format (another cipher, a KDF) can be told apart; also the GCM associated data. */
const SEALED_HEADER = new TextEncoder().encode('ESPFC-RK1')
const NONCE_BYTES = 12
const TAG_BYTES = 16

/** Where the encrypted private key lives: a file, a row in the database, a test's memory. */
export interface ReleaseKeyVault {
  /** The encrypted key, or null when none has been made yet. */
  load(): Uint8Array | null
  /** Stores the encrypted key once; throws ReleaseKeyError('already-exists') if another one got there first. */
  save(sealed: Uint8Array): void
}

/** Keeps the 32-byte secret release-key.enc is encrypted under. */
export interface KeyEncryptionSecretProvider {
  /** The secret, or null when none has been made yet. */
  load(): Uint8Array | null
  /** Makes and keeps a new random secret; throws ReleaseKeyError('already-exists') if one is kept. */
  create(): Uint8Array
}

/** The part of Electron's safeStorage this needs; electron/main passes `safeStorage` itself. */
export interface OsSecretSealer {
  isEncryptionAvailable(): boolean
  encryptString(plainText: string): Uint8Array
  decryptString(encrypted: Buffer): string
}

export interface ReleaseKey {
  /** Hex SHA-256 of the public key's SubjectPublicKeyInfo (DER): names the key in every manifest. */
  readonly keyId: string
  readonly publicKeyPem: string
  readonly algorithm: typeof RELEASE_KEY_ALGORITHM
  /** ECDSA P-256 / SHA-256 signature of `message`, DER. */
  sign(message: Uint8Array): Uint8Array
}

export type ReleaseKeyProblem = 'already-exists' | 'secret-missing' | 'undecryptable' | 'bad-secret' | 'not-p256' | 'unavailable'

export class ReleaseKeyError extends Error {
  constructor(
    readonly problem: ReleaseKeyProblem,
    message: string,
  ) {
    super(message)
    this.name = 'ReleaseKeyError'
  }
}

/**
 * The site's release key: loaded and decrypted when the vault has one, otherwise made, encrypted and
 * stored. A vault whose key cannot be decrypted is an error, never a reason to make a new key: a new key
 * would silently orphan every artifact signed so far.
 */
export function openReleaseKey(vault: ReleaseKeyVault, secrets: KeyEncryptionSecretProvider): ReleaseKey {
  const sealed = vault.load()
  if (sealed) return releaseKeyFrom(decryptPrivateKey(sealed, requireSecret(secrets)))

  const secret = secrets.load() ?? createSecret(secrets)
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' })
  try {
    vault.save(encryptPrivateKey(Buffer.from(pem), secret))
  } catch (error) {
    // Another console process made the key in the meantime: use that one.
    if (error instanceof ReleaseKeyError && error.problem === 'already-exists') {
      const theirs = vault.load()
      if (theirs) return releaseKeyFrom(decryptPrivateKey(theirs, requireSecret(secrets)))
    }
    throw error
  }
  return releaseKeyFrom(privateKey)
}

/** The headless host's release key, kept in its data folder (see the note at the top of this file). */
export function openFileReleaseKey(dataDir: string): ReleaseKey {
  return openReleaseKey(new FileReleaseKeyVault(dataDir), new FileKeyEncryptionSecret(dataDir))
}

/** The key id of a public key (PEM), as ReleaseKey.keyId computes it. */
export function releaseKeyId(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey
  return createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('hex')
}

/** release-key.enc in the data folder, written once and never overwritten. */
export class FileReleaseKeyVault implements ReleaseKeyVault {
  readonly path: string

  constructor(dataDir: string) {
    this.path = join(dataDir, RELEASE_KEY_FILE)
  }

  load(): Uint8Array | null {
    return readIfExists(this.path)
  }

  save(sealed: Uint8Array): void {
    createOnce(this.path, sealed)
  }
}

/** release-key.secret in the data folder: 32 random bytes, mode 0600. */
export class FileKeyEncryptionSecret implements KeyEncryptionSecretProvider {
  readonly path: string

  constructor(dataDir: string) {
    this.path = join(dataDir, RELEASE_KEY_SECRET_FILE)
  }

  load(): Uint8Array | null {
    const secret = readIfExists(this.path)
    if (secret && secret.length !== KEY_ENCRYPTION_SECRET_BYTES) {
      throw new ReleaseKeyError('bad-secret', `${this.path} holds ${secret.length} bytes, not the ${KEY_ENCRYPTION_SECRET_BYTES} of a release key secret.`)
    }
    return secret
  }

  create(): Uint8Array {
    const secret = new Uint8Array(randomBytes(KEY_ENCRYPTION_SECRET_BYTES))
    createOnce(this.path, secret)
    return secret
  }
}

/**
 * The desktop host's secret: 32 random bytes sealed by the OS (Keychain, DPAPI, libsecret) through
 * Electron's safeStorage and kept as release-key.secret.sealed, so the data folder alone is not enough.
 */
export class SafeStorageKeyEncryptionSecret implements KeyEncryptionSecretProvider {
  readonly path: string

  constructor(
    dataDir: string,
    private readonly sealer: OsSecretSealer,
  ) {
    this.path = join(dataDir, RELEASE_KEY_SEALED_SECRET_FILE)
  }

  load(): Uint8Array | null {
    const sealed = readIfExists(this.path)
    if (!sealed) return null
    this.requireAvailable()
    let secret: Uint8Array
    try {
      secret = new Uint8Array(Buffer.from(this.sealer.decryptString(Buffer.from(sealed)), 'base64'))
    } catch {
      throw new ReleaseKeyError('undecryptable', `The operating system could not unseal ${this.path}; was the data folder copied from another user or machine?`)
    }
    if (secret.length !== KEY_ENCRYPTION_SECRET_BYTES) throw new ReleaseKeyError('bad-secret', `${this.path} does not unseal to a release key secret.`)
    return secret
  }

  create(): Uint8Array {
    this.requireAvailable()
    const secret = new Uint8Array(randomBytes(KEY_ENCRYPTION_SECRET_BYTES))
    createOnce(this.path, this.sealer.encryptString(Buffer.from(secret).toString('base64')))
    return secret
  }

  private requireAvailable(): void {
    if (!this.sealer.isEncryptionAvailable()) {
      throw new ReleaseKeyError('unavailable', 'The operating system offers no secret storage here; use the data folder secret instead.')
    }
  }
}

/** AES-256-GCM of a PKCS#8 PEM under the key-encryption secret, in the release-key.enc layout. */
function encryptPrivateKey(pkcs8Pem: Uint8Array, secret: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', secret, nonce)
  cipher.setAAD(SEALED_HEADER)
  const ciphertext = Buffer.concat([cipher.update(pkcs8Pem), cipher.final()])
  return new Uint8Array(Buffer.concat([SEALED_HEADER, nonce, cipher.getAuthTag(), ciphertext]))
}

function decryptPrivateKey(sealed: Uint8Array, secret: Uint8Array): KeyObject {
  const headerLength = SEALED_HEADER.length
  const header = sealed.subarray(0, headerLength)
  if (sealed.length <= headerLength + NONCE_BYTES + TAG_BYTES || !Buffer.from(header).equals(SEALED_HEADER)) {
    throw new ReleaseKeyError('undecryptable', 'The stored release key is not in a format this console writes.')
  }
  const nonce = sealed.subarray(headerLength, headerLength + NONCE_BYTES)
  const tag = sealed.subarray(headerLength + NONCE_BYTES, headerLength + NONCE_BYTES + TAG_BYTES)
  const decipher = createDecipheriv('aes-256-gcm', secret, nonce)
  decipher.setAAD(SEALED_HEADER)
  decipher.setAuthTag(tag)
  let pem: Buffer
  try {
    pem = Buffer.concat([decipher.update(sealed.subarray(headerLength + NONCE_BYTES + TAG_BYTES)), decipher.final()])
  } catch {
    throw new ReleaseKeyError(
      'undecryptable',
      'The stored release key does not decrypt with the key-encryption secret: the secret was replaced or the key file was altered. ' +
        'Restore both files from the same backup; making a new key would orphan every artifact signed with the old one.',
    )
  }
  const key = createPrivateKey(pem)
  pem.fill(0)
  return key
}

function requireSecret(secrets: KeyEncryptionSecretProvider): Uint8Array {
  const secret = secrets.load()
  if (!secret) {
    throw new ReleaseKeyError('secret-missing', 'A release key is stored but its key-encryption secret is missing, so it cannot be decrypted. Restore the secret from the same backup.')
  }
  return secret
}

function createSecret(secrets: KeyEncryptionSecretProvider): Uint8Array {
  try {
    return secrets.create()
  } catch (error) {
    if (error instanceof ReleaseKeyError && error.problem === 'already-exists') return requireSecret(secrets)
    throw error
  }
}

// The private key lives in this closure only; the object handed out has the public half and `sign`.
function releaseKeyFrom(privateKey: KeyObject): ReleaseKey {
  const publicKey = createPublicKey(privateKey)
  const details = privateKey.asymmetricKeyDetails
  if (privateKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
    throw new ReleaseKeyError('not-p256', 'The stored release key is not an ECDSA P-256 key.')
  }
  return Object.freeze({
    keyId: releaseKeyId(publicKey),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    algorithm: RELEASE_KEY_ALGORITHM,
    sign: (message: Uint8Array) => new Uint8Array(sign('sha256', message, privateKey)),
  })
}

function readIfExists(path: string): Uint8Array | null {
  if (!existsSync(path)) return null
  return new Uint8Array(readFileSync(path))
}

/**
 * Writes a file that must never be replaced: to a temporary name first (so a crash leaves no half file
 * under the real name), then hard-linked into place, which fails if the name exists.
 */
function createOnce(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true })
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  writeFileSync(temporary, bytes, { mode: 0o600, flag: 'wx' })
  // writeFileSync's mode is filtered by the umask; this makes 0600 exact.
  chmodSync(temporary, 0o600)
  try {
    try {
      linkSync(temporary, path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error
      // No hard links here (FAT, Android shared storage): an exclusive copy still never overwrites,
      // though a crash mid-copy could leave a short file, which then fails to decrypt rather than pass.
      copyFileSync(temporary, path, constants.COPYFILE_EXCL)
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ReleaseKeyError('already-exists', `${path} already exists; it is never overwritten.`)
    throw error
  } finally {
    unlinkSync(temporary)
  }
}
