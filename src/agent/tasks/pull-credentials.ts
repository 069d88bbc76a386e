/**
 * Which registry credentials a task's image is pulled with (docs/first-contact.md): its
 * service's `imagePullSecret`, else the namespace's `registry-credentials` Secret when there is
 * one, else none (anonymous). The Secret is read through the API like any task secret (the
 * server lets a node read it only while it runs a task that pulls with it) and never written
 * to disk or logged. A named secret that is missing, malformed or for another registry rejects
 * the task with a message that says so; the namespace default is skipped in those cases.
 */
import { BadRequestError, ForbiddenError, NotFoundError } from '../../api/errors.js';
import type { Task } from '../../api/kinds.js';
import type { ApiObject, ObjectKey } from '../../api/object.js';
import { credentialsFromSecret, DEFAULT_REGISTRY_SECRET, RegistrySecretError, type RegistryLogin } from '../../api/registry-credentials.js';
import { parseReference } from '../image/reference.js';

/** What the resolver reads Secrets with (the agent's ApiClient). */
export interface SecretGetter {
  get(key: ObjectKey): Promise<ApiObject | undefined>;
}

/** Resolves a task's pull credentials; see the file comment. */
export class PullCredentials {
  constructor(private readonly client: SecretGetter) {}

  /** The login for the task's image registry, or undefined to pull anonymously. */
  async forTask(task: Task): Promise<RegistryLogin | undefined> {
    const named = task.spec.template.imagePullSecret;
    const name = named ?? DEFAULT_REGISTRY_SECRET;
    const ns = task.metadata.namespace;
    const registry = parseReference(task.spec.image).registry;
    const where = `imagePullSecret ${ns}/${name}`;
    let obj: ApiObject | undefined;
    try {
      obj = await this.client.get({ kind: 'Secret', namespace: ns, name });
    } catch (err) {
      if (named === undefined && (err instanceof NotFoundError || err instanceof ForbiddenError)) return undefined;
      throw err;
    }
    if (obj === undefined) {
      if (named === undefined) return undefined;
      throw new NotFoundError(`${where}: no such secret (create it with: flotilla registry login ${registry} --name ${name} -n ${ns} --username USER --password-stdin)`);
    }
    const data = (obj.spec as { data?: Record<string, string> } | undefined)?.data ?? {};
    let login: RegistryLogin | undefined;
    try {
      login = credentialsFromSecret(data, registry);
    } catch (err) {
      if (!(err instanceof RegistrySecretError)) throw err;
      if (named === undefined) return undefined;
      throw new BadRequestError(`${where}: not registry credentials: ${err.message}`);
    }
    if (login === undefined && named !== undefined) throw new BadRequestError(`${where} holds no credentials for registry ${registry}`);
    return login;
  }
}
