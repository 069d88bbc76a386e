/**
 * The TrustPolicy spec (content trust, src/image-trust/): `enforce`, an optional allow-list of
 * registries (`host[:port]`), and rules that name which images (a glob over `host/path`) need
 * a signature by one of which keys (PEM ECDSA P-256 public keys, cosign's key format). A key
 * that does not parse is refused here, at spec.rules[i].keys[j], not at the first image.
 */
import { z } from 'zod';
import type { TrustPolicySpec } from '../kinds.js';
import { parsePublicKey } from '../../image-trust/keys.js';

const REGISTRY_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]{1,5})?$/;
const REGISTRY_RULE = 'a registry host[:port] like 127.0.0.1:5000 or registry.example.com (no scheme, no path)';
const IMAGES_RE = /^[a-zA-Z0-9*?[\]][a-zA-Z0-9._:/*?[\]-]*$/;
const IMAGES_RULE = 'a glob over host/path of images, like 127.0.0.1:5000/* or registry.example.com/team/** (no tag or digest)';

const publicKey = z.string().superRefine((pem, ctx) => {
  try {
    parsePublicKey(pem, 'key');
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `a PEM ECDSA P-256 public key (-----BEGIN PUBLIC KEY-----, as cosign and \`openssl ec -pubout\` write) (${(err as Error).message.replace(/^key: /, '')})` });
  }
});

const rule = z.object({
  // A `:` after the last `/` would be a tag; a `@` a digest.
  images: z.string().regex(IMAGES_RE, { message: IMAGES_RULE }).refine((g) => !g.includes('@') && !(g.includes('/') && /:[^/]*$/.test(g)), { message: IMAGES_RULE }),
  keys: z.array(publicKey).min(1, { message: 'at least one public key' }),
}).strict();

/** The TrustPolicy spec schema. */
export const trustPolicySpecSchema = z.object({
  enforce: z.boolean(),
  registries: z.array(z.string().regex(REGISTRY_RE, { message: REGISTRY_RULE })).optional(),
  rules: z.array(rule).min(1, { message: 'at least one rule (images and the keys that sign them)' }),
}).strict().transform((s): TrustPolicySpec => ({ enforce: s.enforce, ...(s.registries !== undefined ? { registries: s.registries } : {}), rules: s.rules }));
