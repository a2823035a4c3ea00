import type { AlertObject } from './types.js';

/**
 * The JSON of an alert's objects, each object serialised once. The engine
 * builds an AlertObject anew only when its event changes, and never mutates
 * it, so the same object reappears in every later change of its alert; the
 * store and the board write those changes for every event under load.
 */
const cache = new WeakMap<AlertObject, string>();

export function alertObjectJson(o: AlertObject): string {
  let json = cache.get(o);
  if (json === undefined) {
    json = JSON.stringify(o);
    cache.set(o, json);
  }
  return json;
}

export function alertObjectsJson(objects: readonly AlertObject[]): string {
  let out = '[';
  for (let i = 0; i < objects.length; i++) out += (i > 0 ? ',' : '') + alertObjectJson(objects[i]!);
  return `${out}]`;
}
