/**
 * Admission: the namespace `flotilla-system` belongs to the servers (the cluster CA's Secret,
 * src/server/pki/ca-store.ts). Nobody writes there through the API, not even the admin: a user
 * who could replace that Secret could make the servers trust a CA of their own.
 */
import { ForbiddenError } from '../../api/errors.js';
import type { AdmissionHook, AdmissionRequest } from '../hooks.js';
import { SYSTEM_NAMESPACE } from '../pki/ca-store.js';

/** Refuses every API write in the reserved namespace. */
export const systemNamespaceAdmission: AdmissionHook = {
  name: 'system-namespace',
  admit(req: AdmissionRequest): void {
    if (req.object.metadata.namespace !== SYSTEM_NAMESPACE) return;
    throw new ForbiddenError(`namespace ${SYSTEM_NAMESPACE} is reserved for the servers (it holds the cluster CA): ${req.operation} of ${req.object.kind} ${req.object.metadata.name} refused`);
  },
};
