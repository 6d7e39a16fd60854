import { ManifestCache } from './restore-objects';

/** One per container: the manifest of a restore is read once however many units it serves. */
export const manifests = new ManifestCache();
