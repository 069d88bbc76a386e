/**
 * Registry clients of a process that verifies images but pulls none (the API server): one
 * client per registry, anonymous, kept for their connections and tokens until stop().
 */
import { RegistryClient, type RegistryClientOptions } from '../agent/image/registry-client.js';

/** One RegistryClient per registry host. */
export class RegistryClients {
  private readonly clients = new Map<string, RegistryClient>();

  constructor(private readonly opts: RegistryClientOptions = {}) {}

  /** The client for `registry` (made on first use). */
  get(registry: string): RegistryClient {
    let c = this.clients.get(registry);
    if (c === undefined) {
      c = new RegistryClient(registry, this.opts);
      this.clients.set(registry, c);
    }
    return c;
  }

  /** Closes every client's connections; idempotent. */
  stop(): Promise<void> {
    for (const c of this.clients.values()) c.stop();
    this.clients.clear();
    return Promise.resolve();
  }
}
