import { randomBytes } from 'node:crypto';
import { PrivateKeyCipher } from '../private-key.cipher';

const PEM =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

describe('PrivateKeyCipher', () => {
  const cipher = new PrivateKeyCipher(randomBytes(32));

  it('opens what it sealed, and the sealed form hides the plaintext', () => {
    const sealed = cipher.encrypt(PEM);
    expect(sealed).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(cipher.decrypt(sealed)).toBe(PEM);
  });

  it('uses a fresh 12-byte IV for every message', () => {
    const first = cipher.encrypt(PEM).split(':');
    const second = cipher.encrypt(PEM).split(':');
    expect(Buffer.from(first[1], 'base64')).toHaveLength(12);
    expect(first[1]).not.toBe(second[1]);
    expect(first[3]).not.toBe(second[3]);
  });

  it.each([
    ['ciphertext', 3],
    ['tag', 2],
    ['IV', 1],
  ])('refuses a value with an altered %s', (_part, index) => {
    const parts = cipher.encrypt(PEM).split(':');
    const bytes = Buffer.from(parts[index], 'base64');
    bytes[0] ^= 0x01;
    parts[index] = bytes.toString('base64');
    expect(() => cipher.decrypt(parts.join(':'))).toThrow(/wrong key or tampered/);
  });

  it('refuses a value sealed with another key', () => {
    const other = new PrivateKeyCipher(randomBytes(32));
    expect(() => other.decrypt(cipher.encrypt(PEM))).toThrow(/wrong key or tampered/);
  });

  it('refuses values that are not v1 sealed values', () => {
    expect(() => cipher.decrypt(PEM)).toThrow(/not a v1 sealed value/);
    expect(() => cipher.decrypt('v2:a:b:c')).toThrow(/not a v1 sealed value/);
    expect(() => cipher.decrypt('v1:AAAA:AAAA:AAAA')).toThrow(/malformed/);
  });

  describe('fromSecret', () => {
    const key = randomBytes(32);

    it('accepts 64 hex characters and base64 of 32 bytes, both meaning the same key', () => {
      const fromHex = PrivateKeyCipher.fromSecret(key.toString('hex'));
      const fromBase64 = PrivateKeyCipher.fromSecret(key.toString('base64'));
      expect(fromBase64.decrypt(fromHex.encrypt(PEM))).toBe(PEM);
      expect(
        PrivateKeyCipher.fromSecret(key.toString('hex').toUpperCase()).decrypt(
          fromHex.encrypt(PEM),
        ),
      ).toBe(PEM);
    });

    it.each([
      ['too short hex', key.toString('hex').slice(0, 62)],
      ['too long hex', `${key.toString('hex')}00`],
      ['base64 of 16 bytes', randomBytes(16).toString('base64')],
      ['base64 of 48 bytes', randomBytes(48).toString('base64')],
      ['a passphrase', 'correct horse battery staple'],
      ['an empty string', ''],
    ])('rejects %s, naming the rule and not the secret', (_what, secret) => {
      let error: unknown;
      try {
        PrivateKeyCipher.fromSecret(secret);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(
        /64 hex characters or the base64 encoding of exactly 32 bytes/,
      );
      if (secret) expect((error as Error).message).not.toContain(secret);
    });

    it('rejects a key buffer that is not 32 bytes', () => {
      expect(() => new PrivateKeyCipher(randomBytes(16))).toThrow(/32 bytes/);
    });
  });
});
