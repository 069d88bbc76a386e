/**
 * The agent endpoint of a node by name, for the node routes of the proxy (prune, metrics):
 * the clear errors when there is none (not found, down, no endpoint reported).
 */
import { NotFoundError, UnavailableError } from '../../api/errors.js';
import type { NodeObject } from '../../api/kinds.js';
import type { Store } from '../../store/store.js';
import type { AgentTarget } from './agent-dialer.js';

/** Where node `name`'s agent listens; `what` says what the caller wanted ("prune", "serve its metrics"). */
export async function nodeTarget(store: Store, name: string, what: string): Promise<AgentTarget> {
  const node = (await store.get({ kind: 'Node', namespace: '', name })) as NodeObject | undefined;
  if (node === undefined) throw new NotFoundError(`node ${name} not found`);
  if (node.status?.state === 'down') throw new UnavailableError(`node ${name} is down: its agent cannot ${what}`);
  const address = node.status?.address;
  const port = node.status?.agentPort;
  if (address === undefined || address === '' || port === undefined || port <= 0) throw new UnavailableError(`node ${name} does not report an agent endpoint: is its agent running?`);
  return { node: name, address, port };
}
