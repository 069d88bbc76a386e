/**
 * Image references parsed the way Docker parses them (distribution/reference "normalized
 * named"): `[host[:port]/]path[:tag][@algo:hex]`. A first component that contains a `.` or a
 * `:`, or is `localhost`, names a registry; otherwise the registry is Docker Hub (`docker.io`)
 * and a single-component name gets `library/`. No tag and no digest means `latest`.
 */
import { BadRequestError } from '../../api/errors.js';

/** Docker Hub's name in references, and the host its API really lives on. */
export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

// Grammar from distribution/reference/regexp.go.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const NAME_TOTAL_MAX = 255;

/** A parsed, normalized image reference: what the puller needs to find a manifest. */
export interface ImageReference {
  /** Registry as written in the reference (`127.0.0.1:5000`, `docker.io`). */
  readonly registry: string;
  /** Repository path inside the registry (`demo/busybox`, `library/alpine`). */
  readonly repository: string;
  /** Tag, when given or defaulted (`latest` when neither tag nor digest was given). */
  readonly tag?: string;
  /** `sha256:<hex>` when the reference pins a digest; it wins over the tag for pulling. */
  readonly digest?: string;
}

function invalid(ref: string, why: string): BadRequestError {
  return new BadRequestError(`invalid reference format: ${JSON.stringify(ref)}: ${why}`);
}

/** Splits `name[:tag][@digest]`, checking the tag and digest grammar. */
function splitNameTagDigest(ref: string): { name: string; tag?: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw invalid(ref, `bad digest ${JSON.stringify(digest)}`);
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
      throw invalid(ref, 'a sha256 digest has 64 lowercase hex characters');
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(ref, `bad tag ${JSON.stringify(tag)}`);
  }
  return { name: rest, tag, digest };
}

/** Splits the registry from the path, the Docker way (`splitDockerDomain`). */
function splitDomain(name: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  if (slash < 0 || (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first)) {
    const repository = slash < 0 ? `library/${name}` : name;
    return { registry: DOCKER_HUB, repository };
  }
  let registry = first;
  let repository = name.slice(slash + 1);
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository };
}

/**
 * Parses an image reference as Docker does. Throws BadRequestError ("invalid reference
 * format") for anything Docker would reject, e.g. upper case in the path.
 */
export function parseReference(ref: string): ImageReference {
  if (ref.length === 0) throw invalid(ref, 'empty');
  const { name, tag, digest } = splitNameTagDigest(ref);
  if (name.length === 0) throw invalid(ref, 'no repository name');
  const { registry, repository } = splitDomain(name);
  if (!DOMAIN_RE.test(registry)) throw invalid(ref, `bad registry host ${JSON.stringify(registry)}`);
  if (repository.toLowerCase() !== repository) throw invalid(ref, 'repository name must be lowercase');
  if (!PATH_RE.test(repository)) throw invalid(ref, `bad repository path ${JSON.stringify(repository)}`);
  if (name.length > NAME_TOTAL_MAX) throw invalid(ref, `repository name longer than ${NAME_TOTAL_MAX} characters`);
  const out: { registry: string; repository: string; tag?: string; digest?: string } = { registry, repository };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  if (tag === undefined && digest === undefined) out.tag = 'latest';
  return out;
}

/** Full canonical form: `docker.io/library/alpine:latest`, `host:5000/a/b@sha256:...`. */
export function formatReference(ref: ImageReference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The tag or digest a manifest request uses: the digest when pinned, else the tag. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** Where the distribution API of a registry lives (`docker.io` -> `registry-1.docker.io`). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/** True for hosts Docker treats as insecure by default (loopback): plain HTTP is allowed. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
