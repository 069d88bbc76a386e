/**
 * Store operations as ONE etcd transaction: every op adds a guard (compare) and a write; when
 * any guard fails, the failure branch reads every key of the txn, so that one round trip tells
 * which op failed and why (exists, missing, moved revision). All ops share the txn's revision.
 */
import { AlreadyExistsError, BadRequestError, ConflictError, NotFoundError, type FlotillaError } from '../../api/errors.js';
import { keyOf, keyString, type ApiObject, type ObjectKey } from '../../api/object.js';
import type { TxnOp } from '../store.js';
import type { ICompare, IKeyValue, IRequestOp, ITxnRequest, ITxnResponse } from 'etcd3';
import { decodeKv, decodeObject, encodeObject, type KeyLayout } from './keys.js';

/** One op with what the txn needs of it, computed once. */
interface PlannedOp {
  op: TxnOp;
  key: ObjectKey;
  etcdKey: Buffer;
  /** The encoded value of a create or update. */
  value?: Buffer;
}

/** A txn ready to send, and the means to read its answer. */
export class PlannedTxn {
  private readonly planned: PlannedOp[];

  constructor(
    ops: TxnOp[],
    private readonly keys: KeyLayout,
  ) {
    this.planned = ops.map((op) => {
      const key = op.op === 'delete' ? op.key : keyOf(op.object);
      return { op, key, etcdKey: keys.key(key), value: op.op === 'delete' ? undefined : encodeObject(op.object) };
    });
    const seen = new Set<string>();
    for (const p of this.planned) {
      const k = keyString(p.key);
      if (seen.has(k)) throw new BadRequestError(`txn: ${k} appears in more than one op`);
      seen.add(k);
    }
  }

  /** The etcd TxnRequest: guards, writes on success, reads of every key on failure. */
  request(): ITxnRequest {
    return {
      compare: this.planned.flatMap(comparesOf),
      success: this.planned.map((p): IRequestOp =>
        p.op.op === 'delete' ? { request_delete_range: { key: p.etcdKey, prev_kv: true } } : { request_put: { key: p.etcdKey, value: p.value } },
      ),
      failure: this.planned.map((p): IRequestOp => ({ request_range: { key: p.etcdKey } })),
    };
  }

  /** Results in op order: written objects at the txn's revision, deleted ones as they were. */
  results(res: ITxnResponse): ApiObject[] {
    const revision = Number(res.header.revision);
    return this.planned.map((p, i) => {
      if (p.op.op !== 'delete') return decodeObject(p.value as Buffer, revision);
      const prev = res.responses[i]?.response_delete_range?.prev_kvs?.[0];
      if (prev === undefined) throw new NotFoundError(`${keyString(p.key)} not found`); // guarded; cannot happen
      return decodeKv(prev);
    });
  }

  /** The error of the first op whose guard failed, read from the failure branch's ranges. */
  failure(res: ITxnResponse): FlotillaError {
    const many = this.planned.length > 1;
    for (let i = 0; i < this.planned.length; i++) {
      const p = this.planned[i] as PlannedOp;
      const kv: IKeyValue | undefined = res.responses[i]?.response_range?.kvs?.[0];
      const where = many ? `txn op ${i} (${p.op.op} ${keyString(p.key)})` : `${p.op.op} ${keyString(p.key)}`;
      if (p.op.op === 'create') {
        if (kv !== undefined) return new AlreadyExistsError(`${where}: ${keyString(p.key)} already exists`);
        continue;
      }
      if (kv === undefined) return new NotFoundError(`${where}: ${keyString(p.key)} not found`);
      const expected = p.op.expectedRevision;
      if (expected !== undefined && Number(kv.mod_revision) !== expected) {
        return new ConflictError(`${where}: expected revision ${expected}, found ${kv.mod_revision}`);
      }
    }
    return new ConflictError(`txn of ${this.planned.length} ops failed its guards, but no op shows why`);
  }
}

/** create: the key must not exist; update/delete: it must exist, at the expected revision if given. */
function comparesOf(p: PlannedOp): ICompare[] {
  if (p.op.op === 'create') return [{ key: p.etcdKey, target: 'Create', result: 'Equal', create_revision: 0 }];
  const exists: ICompare = { key: p.etcdKey, target: 'Create', result: 'Greater', create_revision: 0 };
  const expected = p.op.expectedRevision;
  if (expected === undefined) return [exists];
  // mod_revision == R alone would also hold for an absent key when R is 0: require existence too.
  return expected > 0 ? [{ key: p.etcdKey, target: 'Mod', result: 'Equal', mod_revision: expected }] : [exists, { key: p.etcdKey, target: 'Mod', result: 'Equal', mod_revision: expected }];
}
