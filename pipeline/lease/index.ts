export {
  CameraLeaseManager,
  type CameraLease,
  type CameraLeaseEvents,
  type CameraLeaseManagerOptions,
  type LeaseLostReason,
} from './camera-lease-manager.js';
export { leaseKeys, leaseToken, parseLeaseToken, type LeaseKeys } from './keys.js';
export { rendezvousScore, preferences, byPreference, type CameraPreference } from './rendezvous.js';
export { acquireLeases, renewLeases, releaseLeases, beat, type AcquiredLease, type BeatResult, type HeldToken } from './scripts.js';
export { readLeaseHolders, readLiveWorkers, type LeaseHolder } from './snapshot.js';
