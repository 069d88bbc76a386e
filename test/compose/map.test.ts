/**
 * The mapping of a realistic Compose file (fixtures/voting: web + api + db + cache with a
 * secret, a config, healthchecks, a named volume, two networks, depends_on) into Flotilla
 * objects, and the warnings it prints for what Flotilla does not do.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceSpec } from '../../src/api/kinds.js';
import { STACK_LABEL } from '../../src/compose/names.js';
import { mapFixture, mapText, objectOf } from './helpers.js';

const spec = (s: ReturnType<typeof mapFixture>, name: string): ServiceSpec => objectOf(s, 'Service', name).spec as ServiceSpec;

void describe('compose mapping: the voting-app style stack', () => {
  const stack = mapFixture('voting/compose.yaml', { TAG: '7' });

  void it('makes one object per service, secret, config and named volume, all in the stack namespace with the stack label', () => {
    assert.deepEqual(stack.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), ['Config/web-conf', 'Secret/db-password', 'Service/api', 'Service/cache', 'Service/db', 'Service/web', 'Volume/db-data']);
    for (const o of stack.objects) {
      assert.equal(o.metadata.namespace, 'voting');
      assert.equal(o.metadata.labels[STACK_LABEL], 'voting');
    }
  });

  void it('interpolates ${VAR:-default} from the environment', () => {
    assert.equal(spec(stack, 'web').image, '127.0.0.1:5000/demo/web:7');
    assert.equal(spec(mapFixture('voting/compose.yaml', { REGISTRY: 'reg.local:5000' }), 'db').image, 'reg.local:5000/demo/db:1');
  });

  void it('maps ports to published routing-mesh ports and expose to VIP ports', () => {
    assert.deepEqual(spec(stack, 'web').ports, [{ port: 80, targetPort: 80, protocol: 'tcp', publish: 8080 }]);
    assert.deepEqual(spec(stack, 'cache').ports, [{ port: 6379, targetPort: 6379, protocol: 'tcp' }]);
  });

  void it('maps entrypoint/command to command/args (shell-split) and merges env_file under environment', () => {
    const api = spec(stack, 'api');
    assert.deepEqual(api.command, ['/bin/sh', '-c']);
    assert.deepEqual(api.args, ['exec httpd -f -p 5000 -h /www']);
    assert.deepEqual(api.env, { LOG_LEVEL: 'info', REGION: 'eu west', DB_HOST: 'db', CACHE_HOST: 'cache', DB_PASSWORD_FILE: '/run/secrets/db_password' });
  });

  void it('maps the healthcheck to readiness and liveness exec probes, start_period to a startup probe', () => {
    const api = spec(stack, 'api').probes;
    const cmd = ['/bin/sh', '-c', 'wget -q -O /dev/null http://localhost:5000/ || exit 1'];
    assert.deepEqual(api.readiness?.exec?.command, cmd);
    assert.equal(api.readiness?.periodSeconds, 5);
    assert.equal(api.readiness?.timeoutSeconds, 3);
    assert.equal(api.readiness?.failureThreshold, 3);
    assert.deepEqual(api.liveness?.exec?.command, cmd);
    assert.equal(api.startup?.periodSeconds, 5);
    assert.equal(api.startup?.failureThreshold, 2 + 3, 'start_period 10s at 5s, then the retries');
    const db = spec(stack, 'db').probes;
    assert.deepEqual(db.readiness?.exec?.command, ['test', '-f', '/var/lib/db/ready']);
    assert.equal(db.readiness?.timeoutSeconds, 30, 'Docker\'s default timeout');
    assert.equal(db.startup, undefined);
  });

  void it('maps deploy: replicas, resources (Docker units), placement, update_config and restart_policy', () => {
    const web = spec(stack, 'web');
    assert.equal(web.replicas, 2);
    assert.deepEqual(web.placement.spread, ['node.labels.zone']);
    assert.deepEqual({ ...web.update, steps: undefined }, { strategy: 'rolling', parallelism: 1, delaySeconds: 10, order: 'start-first', failureAction: 'rollback', monitorSeconds: 5, maxFailureRatio: 0, progressDeadlineSeconds: 300, scaleDownDelaySeconds: 30, steps: undefined });
    assert.deepEqual(web.restart, { condition: 'on-failure', delaySeconds: 5, maxDelaySeconds: 60 });
    const api = spec(stack, 'api');
    assert.deepEqual(api.resources, { limits: { cpu: '0.5', memory: '64Mi' }, requests: { memory: '16Mi' } });
    assert.deepEqual(spec(stack, 'db').placement.constraints, ['node.role == manager']);
    assert.equal(spec(stack, 'db').replicas, 1);
  });

  void it('maps secrets (file, default and relative targets, octal mode), configs and volumes', () => {
    const secret = objectOf(stack, 'Secret', 'db-password');
    assert.deepEqual(secret.spec, { data: { 'db_password.txt': Buffer.from('s3cr3t-pass\n').toString('base64') } });
    assert.deepEqual(objectOf(stack, 'Config', 'web-conf').spec, { data: { 'web.conf': 'listen=80\n' } });
    assert.deepEqual(spec(stack, 'api').secrets, [{ source: 'db-password', target: '/run/secrets/db_password', mode: 0o400, uid: 0, gid: 0 }]);
    assert.deepEqual(spec(stack, 'db').secrets, [{ source: 'db-password', target: '/run/secrets/db_password', mode: 0o400, uid: 0, gid: 0 }]);
    assert.deepEqual(spec(stack, 'web').configs, [{ source: 'web-conf', target: '/etc/web.conf', mode: 0o444 }]);
    assert.deepEqual(spec(stack, 'db').volumes, [{ type: 'volume', source: 'db-data', target: '/var/lib/db', readOnly: false }]);
    assert.deepEqual(spec(stack, 'cache').volumes, [{ type: 'tmpfs', source: '', target: '/data', readOnly: false, size: '32Mi' }]);
    assert.deepEqual(objectOf(stack, 'Volume', 'db-data').spec, { driver: 'local' });
  });

  void it('keeps depends_on as start-order edges with their conditions', () => {
    assert.deepEqual(stack.dependencies, [
      { service: 'web', on: 'api', condition: 'service_started' },
      { service: 'api', on: 'db', condition: 'service_healthy' },
      { service: 'api', on: 'cache', condition: 'service_started' },
    ]);
  });

  void it('names each field it cannot map in one warning (field and why), and nothing else', () => {
    assert.deepEqual(stack.warnings.map((w) => w.path), ['networks', 'services.web.deploy.restart_policy.max_attempts', 'services.web.ports', 'services.cache.labels']);
    assert.match(stack.warnings[0]?.reason ?? '', /front-tier, back-tier are not isolated .* the stack is one namespace \(voting\)/);
    assert.match(stack.warnings[1]?.reason ?? '', /without a limit/);
    assert.equal(stack.warnings[2]?.reason, 'the scheduler reserves published port 8080 on each node running a task: at most one of the 2 replicas per node');
  });
});

void describe('compose mapping: field by field', () => {
  const one = (svc: string, top = ''): ServiceSpec => spec(mapText(`services:\n  s:\n    image: busybox:1\n${svc}${top}`), 's');

  void it('expands port ranges, protocols and long syntax; warns for host mode, host_ip and unpublished ports', () => {
    const s = mapText(`services:
  s:
    image: busybox:1
    ports:
      - "8000-8001:80-81"
      - "53:53/udp"
      - "127.0.0.1:9000:9000"
      - "7000"
      - {target: 443, published: 8443, mode: host}
`);
    assert.deepEqual((objectOf(s, 'Service', 's').spec as ServiceSpec).ports, [
      { port: 80, targetPort: 80, protocol: 'tcp', publish: 8000 },
      { port: 81, targetPort: 81, protocol: 'tcp', publish: 8001 },
      { port: 53, targetPort: 53, protocol: 'udp', publish: 53 },
      { port: 9000, targetPort: 9000, protocol: 'tcp', publish: 9000 },
      { port: 7000, targetPort: 7000, protocol: 'tcp' },
      { port: 443, targetPort: 443, protocol: 'tcp', publish: 8443 },
    ]);
    assert.deepEqual(s.warnings.map((w) => w.path), ['services.s.ports[2].host_ip', 'services.s.ports[3]', 'services.s.ports[4].mode']);
  });

  void it('reads command strings like a shell and environment lists with host values', () => {
    const s = spec(mapText(`services:\n  s:\n    image: busybox:1\n    command: sh -c 'echo "a b" && sleep 1'\n    environment: [A=1, FROM_HOST, UNSET_HERE]\n`, { env: { FROM_HOST: 'yes' } }), 's');
    assert.deepEqual(s.args, ['sh', '-c', 'echo "a b" && sleep 1']);
    assert.deepEqual(s.env, { A: '1', FROM_HOST: 'yes' });
  });

  void it('maps restart, stop_grace_period, global mode, healthcheck NONE and disable', () => {
    const s = one('    restart: unless-stopped\n    stop_grace_period: 1m30s\n    deploy: {mode: global}\n    healthcheck: {test: ["NONE"]}\n');
    assert.deepEqual(s.restart, { condition: 'any', delaySeconds: 1, maxDelaySeconds: 60 });
    assert.equal(s.stopGracePeriodSeconds, 90);
    assert.equal(s.mode, 'global');
    assert.deepEqual(s.probes, {});
    assert.deepEqual(one('    healthcheck: {test: "true", disable: true}\n').probes, {});
    assert.deepEqual(one('    healthcheck: {test: "curl -f http://localhost"}\n').probes.readiness?.exec?.command, ['/bin/sh', '-c', 'curl -f http://localhost']);
  });

  void it('refers to external secrets and volumes without creating them; renames _ to -', () => {
    const s = mapText(`services:
  s:
    image: busybox:1
    secrets: [api_key, {source: site_cert, target: cert.pem}]
    volumes: ["shared:/shared:ro", "./data:/data", {type: tmpfs, target: /tmp, tmpfs: {size: 1g}}]
secrets:
  api_key: {external: true}
  site_cert: {external: true, name: site-cert-v2}
volumes:
  shared: {external: true}
`, { dir: '/srv/app' });
    assert.deepEqual(s.objects.map((o) => o.kind), ['Service']);
    const sp = objectOf(s, 'Service', 's').spec as ServiceSpec;
    assert.deepEqual(sp.secrets.map((r) => [r.source, r.target]), [['api-key', '/run/secrets/api_key'], ['site-cert-v2', '/run/secrets/cert.pem']]);
    assert.deepEqual(sp.volumes, [
      { type: 'volume', source: 'shared', target: '/shared', readOnly: true },
      { type: 'bind', source: '/srv/app/data', target: '/data', readOnly: false },
      { type: 'tmpfs', source: '', target: '/tmp', readOnly: false, size: '1Gi' },
    ]);
  });

  void it('warns once per field it leaves out, with the reason', () => {
    const s = mapText(`services:
  s:
    image: busybox:1
    container_name: my-s
    privileged: true
    cap_add: [NET_ADMIN]
    x-custom: ignored
    expose: ["80"]
    deploy:
      rollback_config: {parallelism: 1}
      placement: {max_replicas_per_node: 1}
      resources:
        reservations:
          devices: [{capabilities: [gpu]}]
    healthcheck: {test: ["CMD", "true"], interval: 1500ms}
    volumes: ["/anonymous"]
volumes:
  v: {driver: nfs, driver_opts: {type: nfs}}
`);
    assert.deepEqual(s.warnings.map((w) => w.path), [
      'volumes.v.driver', 'volumes.v.driver_opts',
      'services.s.deploy.resources.reservations.devices', 'services.s.deploy.placement.max_replicas_per_node', 'services.s.deploy.rollback_config',
      'services.s.healthcheck.interval', 'services.s.volumes[0]',
      'services.s.container_name', 'services.s.privileged', 'services.s.cap_add',
    ]);
    assert.match(s.warnings.find((w) => w.path === 'services.s.healthcheck.interval')?.reason ?? '', /rounded to 2s/);
    assert.match(s.warnings.find((w) => w.path === 'services.s.container_name')?.reason ?? '', /task names are chosen by Flotilla/);
  });
});

void describe('compose mapping: an awesome-compose style file written for docker compose', () => {
  const stack = mapFixture('react-express-mysql/compose.yaml');

  void it('maps it, with the $$ escape kept for the shell and binds resolved against the file', () => {
    const db = spec(stack, 'db');
    assert.deepEqual(db.args, ['--default-authentication-plugin=mysql_native_password']);
    assert.deepEqual(db.restart, { condition: 'any', delaySeconds: 1, maxDelaySeconds: 60 });
    assert.deepEqual(db.probes.readiness?.exec?.command, ['/bin/sh', '-c', 'mysqladmin ping -h 127.0.0.1 --password="$(cat /run/secrets/db-password)" --silent']);
    assert.equal(db.probes.startup?.failureThreshold, Math.ceil(30 / 3) + 5);
    assert.deepEqual(db.ports.map((p) => p.port), [3306, 33060]);
    assert.deepEqual(db.env, { MYSQL_DATABASE: 'example', MYSQL_ROOT_PASSWORD_FILE: '/run/secrets/db-password' });
    const backend = spec(stack, 'backend');
    assert.deepEqual(backend.args, ['npm', 'run', 'start-watch']);
    assert.deepEqual(backend.ports.map((p) => [p.port, p.publish]), [[80, 80], [9229, 9229], [9230, 9230]]);
    assert.equal(backend.volumes[0]?.type, 'bind');
    assert.match(backend.volumes[0]?.source ?? '', /fixtures\/react-express-mysql\/backend\/src$/);
    assert.equal(backend.volumes[0]?.readOnly, true);
    assert.deepEqual(objectOf(stack, 'Volume', 'back-notused').spec, { driver: 'local' });
  });

  void it('warns for build, the anonymous volume and the networks, one line each', () => {
    assert.deepEqual(stack.warnings.map((w) => w.path), ['networks', 'services.backend.build', 'services.frontend.build', 'services.frontend.volumes[1]']);
    assert.match(stack.warnings[1]?.reason ?? '', /the image registry\.example\.com\/awesome\/backend:latest must be built and pushed to a registry first/);
  });
});

void describe('compose interpolation from the .env file beside the compose file', () => {
  void it('reads .env for ${VAR}, and the environment wins over it', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'compose-dotenv-'));
    await writeFile(path.join(dir, '.env'), 'TAG=from-dotenv\nREPO=demo/app\n');
    const text = 'services:\n  s:\n    image: ${REPO}:${TAG}\n';
    assert.equal(spec(mapText(text, { dir }), 's').image, 'demo/app:from-dotenv');
    assert.equal(spec(mapText(text, { dir, env: { TAG: '2' } }), 's').image, 'demo/app:2');
  });
});
