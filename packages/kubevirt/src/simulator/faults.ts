/** Faults the simulator injects on request (`SIM_FAULTS`), each a failure a real cluster shows. */
export const FAULTS = {
  'clone-fail': 'the golden copies are gone when a session clones them: CDI does not start the clone (CloneWithoutSource)',
  'golden-copy-fail': 'the copy of a snapshot into vm-templates fails',
  'partial-snapshot': 'no VolumeSnapshotClass: VM snapshots succeed without their disks',
  'stuck-clone': 'clones from the golden image never finish',
  'api-error': 'some API calls of the platform fail with HTTP 500',
} as const;

export type Fault = keyof typeof FAULTS;

export function parseFaults(text: string | undefined): Set<Fault> {
  const faults = new Set<Fault>();
  for (const name of (text ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)) {
    if (!(name in FAULTS)) throw new Error(`SIM_FAULTS: unknown fault "${name}"; known: ${Object.keys(FAULTS).join(', ')}`);
    faults.add(name as Fault);
  }
  return faults;
}
