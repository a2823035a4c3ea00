export { declarationSchema, healthDeclarationSchema, declaredVesselSchema, type Declaration } from './declaration-schema.js';
export { storeDeclaration, listCalls, callId, type StoredCall, type VesselCall } from './declaration-store.js';
