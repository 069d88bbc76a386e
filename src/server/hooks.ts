/**
 * Extension points of the API server that later issues fill in, kept here so their place is
 * obvious: the at-rest codec (secret encryption) and admission hooks (policy, quotas, image
 * trust). The defaults do nothing.
 */
import type { ApiObject } from '../api/object.js';
import type { Identity } from './auth/identity.js';

/**
 * Transforms objects on their way into and out of the store. The secret-encryption issue plugs
 * in here: `toStore` encrypts Secret.spec.data (AES-256-GCM under a key-encryption key),
 * `fromStore` decrypts it, so the API answers with the plain data and the store never holds it.
 * Every read path of the API (get, list, watch, write answers) goes through `fromStore`.
 */
export interface ObjectCodec {
  toStore(obj: ApiObject): Promise<ApiObject> | ApiObject;
  fromStore(obj: ApiObject): Promise<ApiObject> | ApiObject;
}

/** Stores objects as they are (tests of the API alone); the server installs src/server/secrets/codec.ts. */
export const PLAIN_CODEC: ObjectCodec = {
  toStore: (o) => o,
  fromStore: (o) => o,
};

/** What an admission hook is asked about: the object after validation and defaults. */
export interface AdmissionRequest {
  operation: 'create' | 'update' | 'status' | 'delete';
  identity: Identity;
  object: ApiObject;
  /** The stored object, for update, status and delete. */
  old?: ApiObject;
}

/**
 * Admission: runs after validation, before the write; throws a FlotillaError (ForbiddenError,
 * ValidationError) to refuse. Hooks run in order; none is installed yet.
 */
export interface AdmissionHook {
  readonly name: string;
  admit(req: AdmissionRequest): Promise<void> | void;
}
