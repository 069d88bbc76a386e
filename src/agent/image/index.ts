/**
 * The image subsystem's public surface: what the agent's task runner imports.
 * See README.md for the flow.
 */
export { ImagePuller, type ImagePullerOptions, type PullOptions, type PulledImage } from './puller.js';
export { releaseRootfsDir, prepareRootfs, type PreparedRootfs, type PrepareRootfsOptions } from './rootfs.js';
export { LayerStore, type ImageRecord, type LayerRecord, type GcResult } from './layer-store.js';
export { RegistryClient, type RegistryClientOptions } from './registry-client.js';
export { parseReference, formatReference, type ImageReference } from './reference.js';
export { DigestMismatchError, UnsupportedImageError, RegistryTlsError } from './errors.js';
export type { PullProgress, LayerProgress } from './progress.js';
export type { RegistryCredentials } from './auth.js';
export type { ContainerConfig, ImageConfig, Platform } from './manifest.js';
