import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
// 96-bit IVs are GCM's native size; a random one per message keeps (key, IV) pairs unique for
// far more messages than we will ever seal with one key.
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SECRET_RULE = 'must be 64 hex characters or the base64 encoding of exactly 32 bytes';

/**
 * Seals private keys (certificates', the ACME account's) before they reach the database, so a
 * leaked dump or backup does not hand out the platform's TLS identity. AES-256-GCM is
 * authenticated: a tampered value or one sealed with another key fails to open instead of
 * yielding garbage. Format: `v1:<iv b64>:<tag b64>:<ciphertext b64>`; the version prefix
 * leaves room to rotate the algorithm or key later.
 */
export class PrivateKeyCipher {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw new Error(`PrivateKeyCipher: the key must be ${KEY_BYTES} bytes, got ${key.length}`);
    }
    this.#key = Buffer.from(key);
  }

  /** Accepts 64 hex characters or base64 of 32 bytes (e.g. `openssl rand -base64 32`). */
  static fromSecret(secret: string): PrivateKeyCipher {
    const trimmed = secret.trim();
    if (HEX_KEY.test(trimmed)) return new PrivateKeyCipher(Buffer.from(trimmed, 'hex'));
    if (BASE64.test(trimmed)) {
      const key = Buffer.from(trimmed, 'base64');
      // Node's base64 decoder skips bad characters; the round trip proves the text was exact.
      if (key.length === KEY_BYTES && key.toString('base64') === trimmed) {
        return new PrivateKeyCipher(key);
      }
    }
    // The secret itself is never echoed: a near-miss is still most of a key.
    throw new Error(`private key encryption secret ${SECRET_RULE}`);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, b64(iv), b64(tag), b64(ciphertext)].join(':');
  }

  decrypt(sealed: string): string {
    const parts = sealed.split(':');
    if (parts.length !== 4 || parts[0] !== VERSION) {
      throw new Error(`PrivateKeyCipher: not a ${VERSION} sealed value`);
    }
    const [iv, tag, ciphertext] = parts.slice(1).map((p) => Buffer.from(p, 'base64'));
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new Error('PrivateKeyCipher: malformed sealed value');
    }
    const decipher = createDecipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new Error('PrivateKeyCipher: cannot decrypt (wrong key or tampered data)', {
        cause: err,
      });
    }
  }
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64');
}
