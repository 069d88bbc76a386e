/**
 * The etcd store on a real etcd: the shared conformance suite, then what is specific to etcd.
 */
import { after } from 'node:test';
import { runStoreConformance } from './conformance.js';
import { etcdHarness } from './etcd-harness.js';

const harness = etcdHarness();
after(() => harness.shutdown());
runStoreConformance('etcd', harness);
