// Makes a fully convolutional graph take any input height and width.
// NanoDet's only size-bound ops are the four Resize nodes of its feature
// pyramid, whose target sizes TF froze as constants (26×26, 52×52, …, the
// sizes at a 416² input). Each resized map is added to a map of the size it
// must match, so the rewrite takes the size from that map at run time:
// sizes = Concat([N, C] of the input, Shape(partner)[2:4]). Everything else in
// the graph (convolutions, pads, the [N, C, -1] reshapes) is size-free already.

import type { GraphNode } from './onnx-builder.js';

export interface DynamicSizeHost {
  nodes: GraphNode[];
  /** int64 values of an initializer, or undefined when `name` is not one. */
  int64Values(name: string): number[] | undefined;
  int64(base: string, values: number[]): string;
  unique(base: string): string;
}

/**
 * Rewrites every Resize whose target size is a constant [h, w] and whose only
 * consumer is an Add, then re-sorts the nodes. Throws, naming the node, when a
 * Resize cannot be rewritten (the model then cannot take other sizes).
 */
export function makeSpatiallyDynamic(host: DynamicSizeHost): { resizes: number } {
  const producer = new Map<string, GraphNode>();
  const consumers = new Map<string, GraphNode[]>();
  for (const n of host.nodes) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const added: GraphNode[] = [];
  let resizes = 0;
  for (const resize of host.nodes.filter((n) => n.op_type === 'Resize')) {
    const why = (reason: string) => new Error(`Resize ${resize.name}: ${reason}; the model cannot take other input sizes`);
    const concat = producer.get(resize.input[3] ?? '');
    const hw = concat?.op_type === 'Concat' ? host.int64Values(concat.input[1] ?? '') : undefined;
    if (!concat || !hw || hw.length !== 2) throw why('its target size is not Concat([N, C], constant [h, w])');
    const users = consumers.get(resize.output[0]!) ?? [];
    if (users.length !== 1 || users[0]!.op_type !== 'Add') throw why('its output feeds something other than one Add');
    const partner = users[0]!.input.find((i) => i !== resize.output[0]);
    if (!partner) throw why('its Add has no other operand');
    const shape = host.unique(`${resize.name}/partner_shape`);
    const size = host.unique(`${resize.name}/partner_hw`);
    added.push(
      { op_type: 'Shape', input: [partner], output: [shape], name: shape, attribute: [] },
      { op_type: 'Slice', input: [shape, host.int64(`${resize.name}/hw_from`, [2]), host.int64(`${resize.name}/hw_to`, [4])], output: [size], name: size, attribute: [] },
    );
    concat.input[1] = size;
    resizes++;
  }
  host.nodes = topologicalOrder([...host.nodes, ...added]);
  return { resizes };
}

/** Kahn's algorithm, keeping the given order wherever the edges allow (stable output, reproducible bytes). */
export function topologicalOrder(nodes: GraphNode[]): GraphNode[] {
  const producedBy = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => producedBy.set(o, i)));
  const waiting = nodes.map((n) => new Set(n.input.filter((i) => producedBy.has(i)).map((i) => producedBy.get(i)!)));
  const users = nodes.map(() => [] as number[]);
  waiting.forEach((deps, i) => deps.forEach((d) => users[d]!.push(i)));
  const ready = waiting.flatMap((d, i) => (d.size === 0 ? [i] : []));
  const out: GraphNode[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    out.push(nodes[i]!);
    for (const u of users[i]!) {
      waiting[u]!.delete(i);
      if (waiting[u]!.size === 0) ready.push(u);
    }
  }
  if (out.length !== nodes.length) throw new Error('the graph has a cycle');
  return out;
}
