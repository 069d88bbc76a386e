/**
 * Content trust (cosign-compatible key-based image signatures): what the API server, the
 * agent and the CLI import. See README.md.
 */
export { keyFingerprint, KeyFormatError, parsePrivateKey, parsePublicKey, publicKeyPem } from './keys.js';
export { parsePayload, signatureTag, signPayload, simpleSigningPayload, verifyPayload, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, type SignedClaim } from './payload.js';
export { appendSignature, readSignatures, type StoredSignature } from './signatures.js';
export { globRegExp, imageName, requirementFor, ruleName, UNTRUSTED_IMAGE_REASON, type MatchedRule, type TrustRequirement } from './policy.js';
export { findSigner, ImageTrustVerifier, resolveDigest, type TrustVerdict } from './verifier.js';
export { RegistryClients } from './clients.js';
