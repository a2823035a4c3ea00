import { readFileSync } from 'node:fs';
import type { ModelManifest } from './manifest.js';

/**
 * Does this CPU have an int8 dot-product instruction (x86 AVX-512 VNNI or
 * AVX-VNNI, Arm dotprod)? Read from /proc/cpuinfo's flags; null where that
 * cannot be told (not Linux, unreadable).
 */
export function cpuHasInt8Dot(cpuinfo: string | null = readCpuinfo()): boolean | null {
  if (cpuinfo === null) return null;
  const flags = /^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo)?.[1];
  if (flags === undefined) return null;
  const set = new Set(flags.trim().split(/\s+/));
  return set.has('avx512_vnni') || set.has('avx_vnni') || set.has('asimddp');
}

/**
 * A warning for running a quantized model where its accuracy was not
 * established (docs/models.md: onnxruntime's u8s8 kernels can saturate on x86
 * without VNNI), or null.
 */
export function int8Caveat(manifest: Pick<ModelManifest, 'name' | 'quantization'>, cpuinfo?: string | null): string | null {
  if (!manifest.quantization) return null;
  if (cpuHasInt8Dot(cpuinfo === undefined ? readCpuinfo() : cpuinfo) !== false) return null;
  return `model ${manifest.name} is int8 and this CPU has no VNNI: its accuracy was checked on VNNI CPUs only; run test/model-quantize.test.ts here, or use the float model (docs/models.md)`;
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}
