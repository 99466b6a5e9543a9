import { describe, it } from 'vitest';

/**
 * `describe` for a suite that needs Go-built test binaries. When `missing` names what is not there,
 * the suite is skipped with that reason printed and in its title; under CI it fails instead,
 * because CI builds the binaries and must never skip these tiers.
 */
export function describeWithBinaries(name: string, missing: string | undefined, body: () => void): void {
  if (!missing) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () =>
      it('has its test binaries', () => {
        throw new Error(missing);
      }),
    );
  } else {
    console.warn(`[integration] "${name}" skipped: ${missing}`);
    describe.skip(`${name} (skipped: ${missing})`, body);
  }
}
