const UNITS: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50,
};

/** Parses a Kubernetes storage quantity ("20Gi", "10G", "1073741824") into bytes. */
export function quantityToBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([kMGTP]i?|Ki)?$/.exec(quantity.trim());
  const unit = UNITS[match?.[2] ?? ''];
  if (!match || unit === undefined) throw new Error(`unsupported quantity "${quantity}"`);
  return Math.round(Number(match[1]) * unit);
}
