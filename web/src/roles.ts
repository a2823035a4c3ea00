import type { Role } from './api.js';

/**
 * What each role sees. The API refuses anything a role may not do anyway; the
 * page does not offer it, so nobody is shown a button that can only fail.
 */
export type View = 'chart' | 'alerts' | 'cameras' | 'berths' | 'dispatch' | 'risk' | 'inspector';
export type Action = 'alert.act' | 'camera.live' | 'dispatch.act' | 'inspection.record';

const VIEWS: Record<Role, View[]> = {
  admin: ['chart', 'alerts', 'cameras', 'berths', 'dispatch', 'risk', 'inspector'],
  operator: ['chart', 'alerts', 'cameras', 'dispatch', 'risk'],
  analyst: ['chart', 'alerts', 'berths', 'risk'],
  inspector: ['inspector'],
  enterprise: ['risk'],
};

const ACTIONS: Record<Role, Action[]> = {
  admin: ['alert.act', 'camera.live', 'dispatch.act', 'inspection.record'],
  operator: ['alert.act', 'camera.live', 'dispatch.act'],
  analyst: [],
  inspector: ['inspection.record'],
  enterprise: [],
};

export const viewsFor = (role: Role): View[] => VIEWS[role] ?? [];
export const may = (role: Role | undefined, action: Action): boolean => !!role && (ACTIONS[role] ?? []).includes(action);
