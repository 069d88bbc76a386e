import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError, type ValidationIssue } from '../../src/api/errors.js';
import type { ServiceSpec } from '../../src/api/kinds.js';
import { parseManifests } from '../../src/api/manifest.js';

function issuesOf(text: string, file = 'app.yaml'): ValidationIssue[] {
  try {
    parseManifests(text, file);
  } catch (e) {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('expected a ValidationError');
}

const WEB = `kind: Service
metadata:
  name: web
spec:
  image: busybox:1
  replicas: 2
`;

void describe('parseManifests', () => {
  void it('parses several documents, skipping empty ones', () => {
    const text = `---\n# just a comment\n---\n${WEB}---\nkind: Node\nmetadata: {name: n1}\n---\n---\n`;
    const objs = parseManifests(text, 'app.yaml');
    assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`), ['Service/default/web', 'Node//n1']);
    assert.equal((objs[0]?.spec as ServiceSpec).replicas, 2);
    assert.equal((objs[0]?.spec as ServiceSpec).update.strategy, 'rolling');
  });

  void it('an empty file gives no objects', () => {
    assert.deepEqual(parseManifests('', 'x.yaml'), []);
    assert.deepEqual(parseManifests('# nothing\n', 'x.yaml'), []);
  });

  void it('issues carry file, 1-based document and the line of the offending field', () => {
    const text = `${WEB}---
kind: Service
metadata:
  name: api
spec:
  image: busybox:1
  replicas: -1
  resources:
    limits:
      memory: 64MB
`;
    const issues = issuesOf(text);
    assert.deepEqual(issues, [
      { file: 'app.yaml', document: 2, line: 13, path: 'spec.replicas', expected: 'an integer >= 0', found: '-1' },
      { file: 'app.yaml', document: 2, line: 16, path: 'spec.resources.limits.memory', expected: 'a quantity like 250m, 0.5, 2, 64Mi or 1G', found: '"64MB"' },
    ]);
  });

  void it('unknown fields point at the key; missing ones at their parent', () => {
    const issues = issuesOf(`kind: Service
metadata:
  name: web
spec:
  replcas: 3
  ports:
    - port: 80
    - targetPort: 80
`);
    const typo = issues.find((i) => i.path === 'spec.replcas');
    assert.equal(typo?.line, 5);
    assert.match(typo?.expected ?? '', /did you mean "replicas"/);
    assert.equal(issues.find((i) => i.path === 'spec.image')?.line, 4);
    assert.equal(issues.find((i) => i.path === 'spec.ports[1].port')?.line, 8);
  });

  void it('collects the issues of every document, with the error message listing them all', () => {
    const text = `kind: Servce
metadata: {name: a}
---
kind: Service
metadata: {name: Bad_Name}
spec: {image: busybox}
---
kind: Node
metadata: {name: n1}
spec: {availability: gone}
`;
    try {
      parseManifests(text, 'all.yaml');
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof ValidationError);
      assert.deepEqual(e.issues.map((i) => [i.document, i.line, i.path]), [[1, 1, 'kind'], [2, 5, 'metadata.name'], [3, 10, 'spec.availability']]);
      const lines = e.message.split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[0] ?? '', /^all\.yaml, document 1, line 1: kind: expected one of Node, Service.*found "Servce"$/);
      assert.match(lines[1] ?? '', /^all\.yaml, document 2, line 5: metadata\.name: expected a DNS label/);
      assert.match(lines[2] ?? '', /^all\.yaml, document 3, line 10: spec\.availability: expected one of active, pause, drain, found "gone"$/);
    }
  });

  void it('rejects the same kind/namespace/name twice', () => {
    const issues = issuesOf(`${WEB}---\n${WEB}---\nkind: Service\nmetadata: {name: web, namespace: other}\nspec: {image: x}\n`);
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0], { file: 'app.yaml', document: 2, line: 10, path: 'metadata.name', expected: 'each object once per file', found: 'Service/default/web again (first in document 1)' });
  });

  void it('reports YAML syntax errors with line and column, along with other documents\' issues', () => {
    const issues = issuesOf(`kind: Service
metadata: {name: web}
spec: {image: x, replicas: -2}
---
kind: Node
metadata:
  name: n1
   bad: indent
`);
    assert.equal(issues[0]?.path, 'spec.replicas');
    const syntax = issues.filter((i) => i.expected === 'valid YAML');
    assert.ok(syntax.length >= 1);
    assert.equal(syntax[0]?.document, 2);
    // Line numbers count from the top of the file, not of the document.
    assert.equal(syntax[0]?.line, 7);
    assert.match(syntax[0]?.found ?? '', /line 7, column 9/);
  });

  void it('reports duplicate keys and unclosed flows as YAML errors', () => {
    assert.ok(issuesOf('kind: Service\nkind: Node\n').some((i) => i.expected === 'valid YAML' && /unique|duplicate/i.test(i.found ?? '')));
    assert.ok(issuesOf('a: [1\n').some((i) => i.expected === 'valid YAML' && i.line !== undefined));
  });

  void it('a document that is not a mapping is an issue', () => {
    const issues = issuesOf(`${WEB}---\n- a\n- b\n`);
    assert.deepEqual(issues.map((i) => [i.document, i.path]), [[2, '']]);
    assert.match(issues[0]?.expected ?? '', /mapping with kind/);
  });

  void it('coerces YAML scalars the way a Compose user expects', () => {
    const [o] = parseManifests(`kind: Service
metadata: {name: web, labels: {ssd: true, rack: 12}}
spec:
  image: busybox
  env: {DEBUG: true, PORT: 8080, NAME: x}
  resources: {limits: {cpu: 0.5, memory: 1e9}}
`, 'c.yaml');
    assert.ok(o !== undefined);
    const spec = o.spec as ServiceSpec;
    assert.deepEqual(o.metadata.labels, { ssd: 'true', rack: '12' });
    assert.deepEqual(spec.env, { DEBUG: 'true', PORT: '8080', NAME: 'x' });
    assert.deepEqual(spec.resources.limits, { cpu: '0.5', memory: '1000000000' });
  });

  void it('refuses alias bombs without hanging', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
    const t = Date.now();
    const issues = issuesOf(lines.join('\n'));
    assert.ok(Date.now() - t < 2000);
    assert.equal(issues[0]?.expected, 'valid YAML');
  });
});
