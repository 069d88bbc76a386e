/**
 * Bad Compose files are refused whole, with every problem named by file, line, compose field
 * and what was expected: YAML syntax, the compose-spec schema, values that do not parse, a
 * required variable unset, undeclared secrets and volumes, depends_on cycles, and what the
 * API's own validation refuses in the mapped objects (named by the compose field it came from).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorsOf } from './helpers.js';

void describe('compose errors', () => {
  void it('says which field holds a value that is not a number', () => {
    assert.deepEqual(errorsOf('services:\n  api:\n    image: busybox:1\n    deploy:\n      replicas: two\n'), [
      'compose.yaml, line 5: services.api.deploy.replicas: expected a number (whole, >= 0), found "two"',
    ]);
  });

  void it('names fields the Compose specification does not have, and wrong types', () => {
    const lines = errorsOf('services:\n  api:\n    image: busybox:1\n    replica: 2\n    ports: 8080\n');
    assert.deepEqual(lines, [
      'compose.yaml, line 4: services.api.replica: expected a field of the Compose specification (replica is not one under services.api)',
      'compose.yaml, line 5: services.api.ports: expected a list, found 8080',
    ]);
  });

  void it('reports YAML syntax errors with their line', () => {
    const [line] = errorsOf('services:\n  api:\n    image: [busybox\n');
    assert.match(line ?? '', /^compose\.yaml, line \d+: \(document\): expected valid YAML, found /);
  });

  void it('reports a required variable that is unset (${VAR:?message})', () => {
    assert.deepEqual(errorsOf('services:\n  api:\n    image: ${IMAGE:?set IMAGE to the api image}\n'), [
      'compose.yaml, line 3: services.api.image: expected variable IMAGE to be set (set IMAGE to the api image), found it unset',
    ]);
  });

  void it('reports undeclared secrets and volumes, missing files, and depends_on on unknown services', () => {
    const lines = errorsOf(`services:
  api:
    image: busybox:1
    secrets: [nope]
    volumes: ["data:/data"]
    depends_on: [ghost]
secrets:
  gone: {file: ./does-not-exist.txt}
`);
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines[0] ?? '', /line 4: services\.api\.secrets\[0\]: expected a secret declared under the top-level secrets, found "nope"/);
    assert.match(lines[1] ?? '', /line 5: services\.api\.volumes\[0\]: expected a volume declared under the top-level volumes, found "data"/);
    assert.match(lines[2] ?? '', /line 6: services\.api\.depends_on\[0\]: expected a service of this file, found "ghost"/);
    assert.match(lines[3] ?? '', /line 8: secrets\.gone\.file: expected a file that exists and can be read \(.*does-not-exist\.txt\)/);
  });

  void it('refuses depends_on cycles and service names that are not DNS labels', () => {
    assert.match(errorsOf('services:\n  a: {image: busybox:1, depends_on: [b]}\n  b: {image: busybox:1, depends_on: [a]}\n').join('\n'), /services\.a\.depends_on: expected no cycle of depends_on, found a -> b -> a/);
    assert.match(errorsOf('services:\n  my_api: {image: busybox:1}\n').join('\n'), /line 2: services\.my_api: expected a service name that is a DNS label/);
  });

  void it('refuses jobs and images built locally (not supported yet)', () => {
    assert.match(errorsOf('services:\n  a: {image: busybox:1, deploy: {mode: replicated-job}}\n').join('\n'), /services\.a\.deploy\.mode: expected replicated or global \(replicated-job: jobs are not supported yet\)/);
    assert.match(errorsOf('services:\n  a: {build: .}\n').join('\n'), /services\.a\.image: expected an image \(build is not supported: build and push the image, then name it here\), found nothing/);
  });

  void it('names the compose field when the API\'s own validation refuses the mapped object', () => {
    const lines = errorsOf(`services:
  api:
    image: Not/An/Image
    deploy:
      placement:
        constraints: ["node.labels.ssd = true"]
      resources:
        limits: {memory: 16M}
        reservations: {memory: 32M}
`);
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0] ?? '', /^compose\.yaml, line 3: services\.api\.image: expected an image reference .*\(Flotilla's Service spec\.image\), found "Not\/An\/Image"/);
    assert.match(lines[1] ?? '', /^compose\.yaml, line 6: services\.api\.deploy\.placement\.constraints\[0\]: expected a constraint like .*\(Flotilla's Service spec\.placement\.constraints\[0\]\)/);
    assert.match(lines[2] ?? '', /^compose\.yaml, line 8: services\.api\.deploy\.resources\.limits: expected a limit >= its request/);
  });

  void it('collects every issue of the file at once, in file order', () => {
    const lines = errorsOf('services:\n  a:\n    image: busybox:1\n    deploy: {replicas: x}\n  b:\n    image: busybox:1\n    healthcheck: {test: ["CMD", "true"], interval: soon}\n');
    assert.deepEqual(lines.map((l) => /line (\d+)/.exec(l)?.[1]), ['4', '7']);
  });
});
