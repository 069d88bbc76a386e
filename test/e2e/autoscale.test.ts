/**
 * The autoscaler end to end on `flotilla up` (real containers and cgroups; the agent samples
 * every second, the autoscaler decides every 2 s): a CPU-burning service scales up from 1 to
 * its max and back down once the load stops; a custom metric pushed through the API scales a
 * service; `flotilla scale` refuses an autoscaled service and a re-apply keeps its size.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { EventSpec, Service } from '../../src/api/kinds.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildBusyboxImage } from '../helpers/images.js';
import { eventually, manifestFile, UpCluster } from '../helpers/flotilla.js';
import { rawRequest } from '../server/helpers.js';

describe('autoscaling on flotilla up', { timeout: 400_000 }, () => {
  let registry: TestRegistry;
  let cluster: UpCluster;
  let image: string;

  before(async () => {
    registry = await startRegistry();
    image = (await buildBusyboxImage(registry.host, 'autoscale/busybox', '1')).ref;
    cluster = await UpCluster.start(['--metrics-interval', '1s', '--autoscale-interval', '2s']);
  });

  after(async () => {
    await cluster?.cli(['delete', 'service', 'burn']).catch(() => undefined);
    await cluster?.stop();
    await registry?.stop();
  });

  const service = async (name: string): Promise<Service> => JSON.parse((await cluster.cli(['get', 'service', name, '-o', 'json'])).stdout) as Service;
  const runningTasks = async (name: string): Promise<string[]> => (await cluster.tasks(name)).filter((t) => t.status?.state === 'running' && t.spec.desiredState === 'running').map((t) => t.metadata.name);

  it('scales a CPU-burning service up to max, and down to min after the load stops', async () => {
    const yaml = `kind: Service
metadata: {name: burn}
spec:
  replicas: 1
  image: ${image}
  command: ["sh", "-c", "while [ ! -f /tmp/stop ]; do :; done; exec sleep 600"]
  stopGracePeriodSeconds: 1
  resources: {requests: {cpu: 100m}, limits: {cpu: 200m, memory: 32Mi}}
  autoscale: {min: 1, max: 3, metrics: [{cpu: {targetUtilization: 50}}], scaleDownStabilizationSeconds: 6}
`;
    const r = await cluster.cli(['apply', '-f', await manifestFile(cluster.dataDir, 'burn.yaml', yaml)]);
    assert.equal(r.code, 0, r.stderr);
    const tasks = await eventually('3 running burn tasks', 120_000, async () => {
      const ts = await runningTasks('burn');
      return ts.length === 3 ? ts : undefined;
    });
    const up = await service('burn');
    assert.equal(up.spec.replicas, 3);
    assert.match(up.status?.autoscale?.reason ?? '', /^cpu \d+% of request \(target 50%\)/);
    for (const t of tasks) {
      const x = await cluster.cli(['exec', t, '--', 'sh', '-c', ': > /tmp/stop']);
      assert.equal(x.code, 0, x.stderr);
    }
    const down = await eventually('back to 1 replica', 120_000, async () => {
      const s = await service('burn');
      return s.spec.replicas === 1 ? s : undefined;
    });
    assert.match(down.status?.autoscale?.reason ?? '', /3 -> 1|2 -> 1/);
    const events = JSON.parse((await cluster.cli(['get', 'events', '-o', 'json'])).stdout) as { items: Array<{ spec: EventSpec }> };
    const rescales = events.items.filter((e) => e.spec.reason === 'SuccessfulRescale' && e.spec.involved === 'Service/default/burn');
    assert.ok(rescales.length >= 2, `scaled up and down: ${rescales.map((e) => e.spec.message).join(' | ')}`);
  });

  it('scales on a custom metric pushed through the API; scale is refused, a re-apply keeps the size', async () => {
    const yaml = `kind: Service
metadata: {name: worker}
spec:
  replicas: 1
  image: ${image}
  command: ["sleep", "600"]
  stopGracePeriodSeconds: 1
  autoscale: {min: 1, max: 5, metrics: [{custom: {name: queue, target: 10}}], scaleDownStabilizationSeconds: 0}
`;
    const file = await manifestFile(cluster.dataDir, 'worker.yaml', yaml);
    assert.equal((await cluster.cli(['apply', '-f', file])).code, 0);
    const admin = JSON.parse(readFileSync(cluster.config, 'utf8')) as { server: string; ca: string; token: string };
    const push = async (value: number): Promise<void> => {
      const body = JSON.stringify({ name: 'queue', value });
      const res = await rawRequest(`${admin.server}/api/v1/services/worker/metrics?namespace=default`, { method: 'POST', ca: admin.ca, headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' }, body });
      assert.equal(res.status, 202, res.text);
    };
    await push(30);
    await eventually('3 workers', 60_000, async () => ((await service('worker')).spec.replicas === 3 ? true : undefined));
    const scale = await cluster.cli(['scale', 'service', 'worker', '--replicas', '4']);
    assert.notEqual(scale.code, 0);
    assert.match(scale.stderr, /service\/worker is autoscaled \(min 1, max 5\)/);
    const again = await cluster.cli(['apply', '-f', file]);
    assert.match(again.stdout, /service\/worker unchanged/);
    assert.equal((await service('worker')).spec.replicas, 3);
    await push(0);
    await eventually('1 worker', 60_000, async () => ((await service('worker')).spec.replicas === 1 ? true : undefined));
    const bad = await rawRequest(`${admin.server}/api/v1/services/worker/metrics`, { method: 'POST', ca: admin.ca, headers: { authorization: `Bearer ${admin.token}` }, body: '{"name":"queue","value":"many"}' });
    assert.equal(bad.status, 422);
    assert.match(bad.text, /value/);
  });
});
