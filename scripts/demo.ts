/**
 * The demo behind `bash scripts/demo.sh`: a local registry with a tiny busybox web image, a
 * one-node cluster (`flotilla up`: server + agent, embedded SQLite store), and the web service
 * of examples/web.yaml, which a person can reach with curl. Runs until Ctrl-C, then removes the
 * service's containers and stops. DEMO_EXIT=1 stops on its own after checking every replica.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { removeLoadBalancer } from '../src/agent/lb/index.js';
import path from 'node:path';
import { parseManifests } from '../src/api/manifest.js';
import { runUp } from '../src/agent/up.js';
import { ApiClient } from '../src/client/index.js';
import type { Task } from '../src/api/kinds.js';
import { startRegistry } from '../test/helpers/registry.js';
import { buildBusyboxImage } from '../test/helpers/images.js';

const DATA_DIR = process.env.FLOTILLA_DATA_DIR ?? '/var/lib/flotilla';
const ROOT = path.resolve(import.meta.dirname, '..');

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

async function main(): Promise<void> {
  const ipForward = readFileSync(IP_FORWARD, 'utf8');
  const registry = await startRegistry({ storageDir: path.join(DATA_DIR, 'demo-registry') });
  console.log(`registry: http://${registry.host} (storage ${registry.storageDir})`);
  const page = '<h1>Hello from Flotilla</h1>\n<p>Served by a busybox httpd container that runc started.</p>\n';
  await buildBusyboxImage(registry.host, 'demo/web', '1', { files: { 'www/index.html': page } });
  const up = await runUp({ dataDir: DATA_DIR, listen: '127.0.0.1:6443' });
  const client = new ApiClient(JSON.parse(readFileSync(up.server.adminConfigPath, 'utf8')) as { server: string; ca: string; token: string });
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping: removing the demo service and its containers...');
    await client.delete({ kind: 'Service', namespace: 'default', name: 'web' }).catch(() => undefined);
    for (let i = 0; i < 60 && (await client.list('Task')).items.length > 0; i++) await new Promise((r) => setTimeout(r, 500));
    await client.close();
    await up.stop();
    await registry.stop();
    // A demo leaves the machine as it found it: the VIP rules and route, and the task bridge.
    await removeLoadBalancer({}).catch(() => undefined);
    await promisify(execFile)('ip', ['link', 'del', 'flotilla0']).catch(() => undefined);
    writeFileSync(IP_FORWARD, ipForward); // the CNI bridge plugin turned it on
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));

  const text = readFileSync(path.join(ROOT, 'examples/web.yaml'), 'utf8').replace(/^(\s*image: )REGISTRY/m, `$1${registry.host}`);
  for (const r of await client.apply(parseManifests(text, 'examples/web.yaml'))) console.log(`${r.kind.toLowerCase()}/${r.name} ${r.action}`);
  const tasks = await waitRunning(client, 3);
  const vip = await waitVip(client);
  console.log(`\nThe demo service runs ${tasks.length} replicas. Try:`);
  console.log(`  curl http://${vip}/            # the service's virtual IP, balanced over the ready replicas`);
  for (const t of tasks) console.log(`  curl http://${t.status?.ip}:8080/   # replica ${t.metadata.name}`);
  console.log(`\n  export FLOTILLA_CONFIG=${up.server.adminConfigPath}`);
  console.log('  ./bin/flotilla get tasks -o wide');
  console.log('  ./bin/flotilla scale service web --replicas 5');
  console.log(`\n  dashboard: ${up.server.url}/ui/  (log in with the "token" of ${up.server.adminConfigPath})`);
  console.log('\nCtrl-C stops the demo and removes its containers.');
  if (process.env.DEMO_EXIT === '1') {
    for (const t of tasks) {
      const body = await (await fetch(`http://${t.status?.ip}:8080/`)).text();
      if (!body.includes('Hello from Flotilla')) throw new Error(`replica ${t.metadata.name} answered ${body}`);
    }
    const viaVip = await (await fetch(`http://${vip}/`)).text();
    if (!viaVip.includes('Hello from Flotilla')) throw new Error(`the VIP answered ${viaVip}`);
    console.log('demo check: every replica and the VIP answered');
    await stop();
  }
}

async function waitVip(client: ApiClient): Promise<string> {
  for (let i = 0; i < 60; i++) {
    const svc = (await client.get({ kind: 'Service', namespace: 'default', name: 'web' })) as { status?: { vip?: string } } | undefined;
    if (svc?.status?.vip !== undefined) return svc.status.vip;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the demo service got no virtual IP within 30 s');
}

async function waitRunning(client: ApiClient, n: number): Promise<Task[]> {
  for (let i = 0; i < 240; i++) {
    const tasks = ((await client.list('Task')).items as Task[]).filter((t) => t.status?.state === 'running' && t.status.ready && t.spec.desiredState === 'running');
    if (tasks.length >= n) return tasks;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the demo service did not start within 2 minutes: see `./bin/flotilla get tasks -o wide`');
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(1);
});
