/**
 * The agent's side of the join flow: a fresh key pair and a CSR to send to the server, which
 * answers with a certificate from ClusterPki.signNodeCsr. Also used by tests of client-cert auth.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { EC_ALG, crypto, generateKeyPair, privateKeyToPem } from './pem.js';

/** A CSR and the private key that stays on the node. */
export interface NodeCsr {
  csrPem: string;
  /** PKCS#8 PEM; never leaves the node. */
  keyPem: string;
}

/** Creates a key pair and a CSR with CN `node:NAME`. */
export async function createNodeCsr(nodeName: string): Promise<NodeCsr> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [`node:${nodeName}`] }],
    keys,
    signingAlgorithm: EC_ALG,
  }, crypto);
  return { csrPem: csr.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) };
}
