/**
 * Type 24 Class B static data arrives in two messages: part A (name) and
 * part B (type, call sign, dimensions). Like gpsd, part A is emitted on its
 * own and remembered; the next part B from the same MMSI is emitted merged
 * (no `part` key) and the stored part A is consumed, so a repeated part B is
 * not merged twice. Unlike gpsd's 8-slot ring, the store holds many vessels
 * (bounded, oldest evicted first), so a busy port does not lose pairs.
 */
export class Type24Store {
  private readonly names = new Map<number, string>();

  constructor(private readonly capacity = 10_000) {}

  rememberPartA(mmsi: number, shipname: string): void {
    this.names.delete(mmsi);
    this.names.set(mmsi, shipname);
    if (this.names.size > this.capacity) {
      const oldest = this.names.keys().next().value;
      if (oldest !== undefined) this.names.delete(oldest);
    }
  }

  /** The ship name of a pending part A for this MMSI, removing it. */
  takePartA(mmsi: number): string | undefined {
    const name = this.names.get(mmsi);
    if (name !== undefined) this.names.delete(mmsi);
    return name;
  }

  get size(): number {
    return this.names.size;
  }
}
