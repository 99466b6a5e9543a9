import { StatusIndicator } from '~/components/ui/status-indicator';
import { phaseTone } from '~/lib/status';
import type { ClusterObject } from '~/lib/trpc';

/** The order an operator reads a KubeVirt session in: machines, their instances, then storage. */
const KIND_ORDER = ['VirtualMachine', 'VirtualMachineInstance', 'DataVolume', 'PersistentVolumeClaim'];
const KIND_SHORT: Record<string, string> = {
  VirtualMachine: 'VM',
  VirtualMachineInstance: 'VMI',
  DataVolume: 'DataVolume',
  PersistentVolumeClaim: 'PVC',
};

function byKindThenName(a: ClusterObject, b: ClusterObject): number {
  const rank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) : KIND_ORDER.length);
  return rank(a.kind) - rank(b.kind) || a.name.localeCompare(b.name);
}

export function ClusterObjects({ objects, ended }: { objects: ClusterObject[]; ended: boolean }) {
  if (objects.length === 0) {
    return (
      <p className="muted">
        {ended ? 'The namespace and everything in it have been deleted.' : 'Nothing has been created in the cluster yet.'}
      </p>
    );
  }
  return (
    <table className="data-table object-table">
      <thead>
        <tr>
          <th scope="col">Kind</th>
          <th scope="col">Name</th>
          <th scope="col">Phase</th>
        </tr>
      </thead>
      <tbody>
        {[...objects].sort(byKindThenName).map((object) => (
          <tr key={`${object.kind}/${object.name}`}>
            <td>
              <abbr title={object.kind}>{KIND_SHORT[object.kind] ?? object.kind}</abbr>
            </td>
            <td className="object-name">{object.name}</td>
            <td>
              <StatusIndicator tone={phaseTone(object.phase)} label={object.phase} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
