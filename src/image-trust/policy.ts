/**
 * What the TrustPolicies ask of one image (pure; no I/O). Every TrustPolicy applies and their
 * parts are unioned:
 *
 *   registries  the union of the lists of the policies that have one; no list anywhere = any registry
 *   rules       every rule of every policy whose `images` glob matches `host/path` of the image
 *   keys        a valid signature by any key of any matching rule is enough
 *   enforce     refused when some policy says enforce: true; otherwise only reported
 *
 * An image that no rule matches is refused too: a cluster with a policy runs signed images only.
 * Globs: `*` is any run of characters but `/`, `**` any run including `/`, `?` one character.
 */
import type { TrustPolicy } from '../api/kinds.js';
import type { ImageReference } from '../agent/image/reference.js';

/** Event reason of an image admitted or run although a policy would refuse it (enforce: false). */
export const UNTRUSTED_IMAGE_REASON = 'UntrustedImage';

/** One matching rule, named for messages: `TrustPolicy default rules[0]`. */
export interface MatchedRule {
  policy: string;
  index: number;
  keys: string[];
}

/** What an image must satisfy. */
export interface TrustRequirement {
  /** Some policy enforces (refuse) rather than reports. */
  enforce: boolean;
  /** Names of the policies (for messages). */
  policies: string[];
  /** Undefined: any registry; else the allowed hosts and the policies that listed them. */
  registries?: { allowed: string[]; by: string[] };
  rules: MatchedRule[];
}

/** Compiles a glob over `host[:port]/path` into a RegExp (see the file comment). */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** `host/path` of an image, what globs are matched against. */
export function imageName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** `TrustPolicy NAME rules[I]`. */
export function ruleName(r: Pick<MatchedRule, 'policy' | 'index'>): string {
  return `TrustPolicy ${r.policy} rules[${r.index}]`;
}

/** The requirement of the policies for one image; undefined when there is no policy at all. */
export function requirementFor(ref: ImageReference, policies: readonly TrustPolicy[]): TrustRequirement | undefined {
  if (policies.length === 0) return undefined;
  const name = imageName(ref);
  const sorted = [...policies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const listing = sorted.filter((p) => p.spec.registries !== undefined);
  const rules: MatchedRule[] = [];
  for (const p of sorted) {
    p.spec.rules.forEach((r, index) => {
      if (globRegExp(r.images).test(name)) rules.push({ policy: p.metadata.name, index, keys: r.keys });
    });
  }
  const out: TrustRequirement = { enforce: sorted.some((p) => p.spec.enforce), policies: sorted.map((p) => p.metadata.name), rules };
  if (listing.length > 0) {
    out.registries = { allowed: [...new Set(listing.flatMap((p) => p.spec.registries ?? []))].sort(), by: listing.map((p) => p.metadata.name) };
  }
  return out;
}
