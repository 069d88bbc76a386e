/**
 * Key layout of the etcd store: `PREFIX/objects/<Kind>/<namespace>/<name>`, value = object JSON.
 * Kept in one place so listing, watching and transactions agree on where an object lives.
 */
import { isKind, type ApiObject, type Kind, type ObjectKey } from '../../api/object.js';
import type { IKeyValue } from 'etcd3';

/** Builds and parses the etcd keys of one store (one prefix). */
export class KeyLayout {
  /** `PREFIX/objects/`: every object key starts with it. */
  readonly objectsPrefix: string;
  /** A key no object ever has: reading it is a cheap way to learn the current revision. */
  readonly probeKey: Buffer;

  constructor(prefix: string) {
    const p = prefix.replace(/\/+$/, '');
    this.objectsPrefix = `${p}/objects/`;
    this.probeKey = Buffer.from(`${p}/revision-probe`);
  }

  /** The key of one object. */
  key(k: ObjectKey): Buffer {
    return Buffer.from(`${this.objectsPrefix}${k.kind}/${k.namespace}/${k.name}`);
  }

  /** Prefix of one kind, or one kind in one namespace, or every object (no kind). */
  scope(kind?: Kind, namespace?: string): string {
    if (kind === undefined) return this.objectsPrefix;
    if (namespace === undefined) return `${this.objectsPrefix}${kind}/`;
    return `${this.objectsPrefix}${kind}/${namespace}/`;
  }
}

/** The end of the range that holds exactly the keys starting with `prefix` (etcd's prefix trick). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // whole keyspace
}

/** Serializes an object for storage; the revision is etcd's mod_revision, so it is not stored. */
export function encodeObject(obj: ApiObject): Buffer {
  return Buffer.from(JSON.stringify({ ...obj, metadata: { ...obj.metadata, revision: 0 } }));
}

/** Parses a stored value and stamps `revision` into metadata (a fresh copy every time). */
export function decodeObject(value: Buffer, revision: number): ApiObject {
  const obj = JSON.parse(value.toString('utf8')) as ApiObject;
  obj.metadata.revision = revision;
  return obj;
}

/** Decodes a key-value from etcd with its mod_revision as the object's revision. */
export function decodeKv(kv: IKeyValue): ApiObject {
  return decodeObject(kv.value, Number(kv.mod_revision));
}

/** Only when etcd could not give a deleted key's previous value: an object with just its identity. */
export function stubFromKey(key: Buffer, keys: KeyLayout, revision: number): ApiObject {
  const [kind = '', namespace = '', name = ''] = key.toString('utf8').slice(keys.objectsPrefix.length).split('/');
  return {
    kind: isKind(kind) ? kind : 'Event',
    metadata: { name, namespace, uid: '', labels: {}, revision, generation: 0, creationTimestamp: '' },
    spec: {},
  };
}
