import { ValidationError } from '@cks-lab/core';

const SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes of a Kubernetes storage quantity ("20Gi", "21474836480", "500M", "1e9"). */
export function quantityBytes(quantity: string): number {
  // A quantity has a decimal exponent or a suffix, never both (k8s.io/apimachinery resource.Quantity).
  const match = /^(\d+(?:\.\d+)?)(?:[eE](\d+)|(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(quantity.trim());
  const factor = match ? SUFFIX[match[3] ?? ''] : undefined;
  if (!match || factor === undefined) throw new ValidationError(`"${quantity}" is not a storage quantity such as 20Gi`);
  return Math.ceil(Number(match[1]) * 10 ** Number(match[2] ?? 0) * factor);
}

/** The larger of a configured size and a measured byte count, keeping the readable form when it wins. */
export function maxQuantity(quantity: string, bytes: number | null): string {
  return bytes !== null && bytes > quantityBytes(quantity) ? String(bytes) : quantity;
}
