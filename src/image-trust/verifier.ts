/**
 * Verifies an image against the TrustPolicies: one resolution of the tag to the digest, one
 * read of the signature manifest, then the pure checks. The answer names the digest that was
 * verified, so that the caller runs exactly that (by digest, never the tag again).
 *
 *   policies? no ─────────────────────────────────────────────> undefined (no registry round trip)
 *   registry allowed? ─no─> refused "image X is from registry R, which TrustPolicy P does not allow (allowed: ...)"
 *   matching rules? ───no─> refused "image X matches no rule of TrustPolicy P, Q"
 *   tag -> digest, signatures of digest (registry; unreachable -> UnavailableError, fail closed)
 *   a payload for this digest signed by a key of a matching rule? ─no─> refused "image X has no signature by a trusted key (...)"
 *   yes -> trusted "signed by key sha256:... (TrustPolicy P rules[i])"
 */
import type { KeyObject } from 'node:crypto';
import { FlotillaError, UnavailableError } from '../api/errors.js';
import type { TrustPolicy } from '../api/kinds.js';
import { formatReference, parseReference, type ImageReference } from '../agent/image/reference.js';
import type { RegistryClient } from '../agent/image/registry-client.js';
import { keyFingerprint, parsePublicKey } from './keys.js';
import { parsePayload, verifyPayload } from './payload.js';
import { imageName, requirementFor, ruleName, type MatchedRule } from './policy.js';
import { readSignatures, type StoredSignature } from './signatures.js';

/** The outcome for one image. */
export interface TrustVerdict {
  image: string;
  /** The digest the reference resolved to (absent when refused before asking the registry). */
  digest?: string;
  /** `host/path@digest`: what to pull and run. */
  pinned?: string;
  trusted: boolean;
  /** Refusing is enforced (some policy has enforce: true); otherwise it is only reported. */
  enforce: boolean;
  /** Why refused, or which key and rule it was signed by. */
  reason: string;
}

/** A key that verified a signature, and where it came from. */
export interface KeyMatch<K> {
  key: K;
  fingerprint: string;
}

const parsed = new Map<string, KeyObject | null>();

/** A rule key parsed once (null when it does not parse: validation refuses those). */
function ruleKey(pem: string): KeyObject | null {
  let k = parsed.get(pem);
  if (k === undefined) {
    try {
      k = parsePublicKey(pem, 'key');
    } catch {
      k = null;
    }
    if (parsed.size > 1000) parsed.clear();
    parsed.set(pem, k);
  }
  return k;
}

/**
 * The first of `keys` that signed a payload for `digest` (pure): payloads for another digest
 * or of another type do not count, whatever their signature.
 */
export function findSigner<K>(signatures: readonly StoredSignature[], digest: string, keys: readonly { id: K; key: KeyObject }[]): KeyMatch<K> | undefined {
  for (const s of signatures) {
    if (parsePayload(s.payload)?.digest !== digest) continue;
    for (const k of keys) {
      if (verifyPayload(k.key, s.payload, s.signature)) return { key: k.id, fingerprint: keyFingerprint(k.key) };
    }
  }
  return undefined;
}

/** Resolves a reference to its digest (the one pinned, or what the tag points at now). */
export async function resolveDigest(client: RegistryClient, ref: ImageReference, what: string): Promise<string> {
  if (ref.digest !== undefined) return ref.digest;
  const tag = ref.tag ?? 'latest';
  return (await client.headManifest(ref.repository, tag, what)) ?? (await client.getManifest(ref.repository, tag, what)).digest;
}

/** Verifies images against policies through a registry client per registry. */
export class ImageTrustVerifier {
  constructor(private readonly clientFor: (registry: string) => RegistryClient) {}

  /** The verdict for `image`; undefined without policies. Throws UnavailableError when the registry cannot be asked. */
  async verify(image: string, policies: readonly TrustPolicy[]): Promise<TrustVerdict | undefined> {
    const ref = parseReference(image);
    const req = requirementFor(ref, policies);
    if (req === undefined) return undefined;
    const refused = (reason: string, digest?: string): TrustVerdict => ({ image, trusted: false, enforce: req.enforce, reason, ...(digest !== undefined ? { digest, pinned: `${imageName(ref)}@${digest}` } : {}) });
    if (req.registries !== undefined && !req.registries.allowed.includes(ref.registry)) {
      return refused(`image ${image} is from registry ${ref.registry}, which TrustPolicy ${req.registries.by.join(', ')} does not allow (allowed: ${req.registries.allowed.join(', ') || 'none'})`);
    }
    if (req.rules.length === 0) return refused(`image ${image} matches no rule of TrustPolicy ${req.policies.join(', ')}: it cannot be trusted`);
    const client = this.clientFor(ref.registry);
    const what = formatReference(ref);
    let digest: string;
    let signatures: StoredSignature[];
    try {
      digest = await resolveDigest(client, ref, what);
      signatures = await readSignatures(client, ref.repository, digest, what);
    } catch (err) {
      if (err instanceof UnavailableError) throw new UnavailableError(`cannot verify the signature of image ${image}: ${err.message}`);
      if (err instanceof FlotillaError) return refused(`cannot verify the signature of image ${image}: ${err.message}`);
      throw err;
    }
    const keys = req.rules.flatMap((r) => r.keys.map((pem) => ({ id: r, key: ruleKey(pem) }))).filter((k): k is { id: MatchedRule; key: KeyObject } => k.key !== null);
    const match = findSigner(signatures, digest, keys);
    const rules = req.rules.map(ruleName).join(', ');
    if (match === undefined) {
      const found = signatures.length === 0 ? 'no signatures found' : `${signatures.length} signature${signatures.length > 1 ? 's' : ''} found, none by a key of ${rules}`;
      return refused(`image ${image} has no signature by a trusted key (${rules}: ${found})`, digest);
    }
    return { image, digest, pinned: `${imageName(ref)}@${digest}`, trusted: true, enforce: req.enforce, reason: `signed by key ${match.fingerprint} (${ruleName(match.key)})` };
  }
}
