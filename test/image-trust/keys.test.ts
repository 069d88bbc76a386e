/**
 * Keys of content trust: PEM keys made by openssl (SEC1 "EC PRIVATE KEY", PKCS#8, SPKI public
 * keys) are read; other curves, RSA, encrypted keys and cosign's own format are refused with a
 * message that says what to do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { keyFingerprint, parsePrivateKey, parsePublicKey, publicKeyPem } from '../../src/image-trust/index.js';
import { openssl as run } from '../helpers/trust-keys.js';

const dir = mkdtempSync(path.join(tmpdir(), 'trust-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const openssl = (...args: string[]): void => void run(dir, ...args);
const read = (f: string): string => readFileSync(path.join(dir, f), 'utf8');

openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'k.pem');
openssl('ec', '-in', 'k.pem', '-pubout', '-out', 'k.pub');
openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'k.pem', '-out', 'k8.pem');
openssl('ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', 'p384.pem');
openssl('ec', '-in', 'p384.pem', '-pubout', '-out', 'p384.pub');
openssl('genrsa', '-out', 'rsa.pem', '2048');
openssl('pkcs8', '-topk8', '-in', 'k.pem', '-out', 'enc.pem', '-passout', 'pass:secret');

void describe('content trust keys', () => {
  void it('reads openssl SEC1 and PKCS#8 private keys and the SPKI public key: one fingerprint', () => {
    const sec1 = parsePrivateKey(read('k.pem'), 'k.pem');
    const pkcs8 = parsePrivateKey(read('k8.pem'), 'k8.pem');
    const pub = parsePublicKey(read('k.pub'), 'k.pub');
    assert.match(keyFingerprint(pub), /^sha256:[0-9a-f]{16}$/);
    assert.equal(keyFingerprint(sec1), keyFingerprint(pub));
    assert.equal(keyFingerprint(pkcs8), keyFingerprint(pub));
    assert.equal(publicKeyPem(sec1).trim(), read('k.pub').trim());
  });

  void it('refuses other curves and RSA, naming what was found', () => {
    assert.throws(() => parsePrivateKey(read('p384.pem'), 'p384.pem'), /p384\.pem: expected an ECDSA P-256 \(prime256v1\) key, found an EC key on curve secp384r1/);
    assert.throws(() => parsePublicKey(read('p384.pub'), 'p384.pub'), /P-256.*secp384r1/);
    assert.throws(() => parsePrivateKey(read('rsa.pem'), 'rsa.pem'), /rsa\.pem: expected an ECDSA P-256 \(prime256v1\) key, found a rsa key/);
  });

  void it('refuses encrypted keys and cosign\'s own format with what to do instead', () => {
    assert.throws(() => parsePrivateKey(read('enc.pem'), 'enc.pem'), /enc\.pem: the private key is encrypted: decrypt it first \(`openssl pkcs8/);
    const cosignKey = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n';
    assert.throws(() => parsePrivateKey(cosignKey, 'cosign.key'), /cosign\.key: cosign's encrypted private key format is not supported yet: .*openssl ecparam -name prime256v1.*cosign import-key-pair/);
  });

  void it('refuses a private key where a public key belongs, and garbage', () => {
    assert.throws(() => parsePublicKey(read('k.pem'), 'rules[0].keys[0]'), /expected a PEM public key \(BEGIN PUBLIC KEY\), found a private key/);
    assert.throws(() => parsePublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 'x'), /x: not a readable PEM public key/);
    assert.throws(() => parsePrivateKey('hello', 'x.pem'), /x\.pem: expected a PEM private key/);
  });
});
