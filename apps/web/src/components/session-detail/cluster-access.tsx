import { guestIdentity } from '@cks-lab/core';
import { CopyButton } from '~/components/ui/copy-button';
import type { SessionDetail } from '~/lib/trpc';

type AccessInput = Pick<SessionDetail, 'namespace' | 'vms' | 'simulated'>;

/** How an operator reaches the lab cluster: the names, and the virtctl/kubectl commands with them filled in. */
export function ClusterAccess({ namespace, vms, simulated }: AccessInput) {
  const commands = [
    { label: 'control-plane console', text: `virtctl console ${vms.controlPlane} -n ${namespace}` },
    { label: 'control-plane SSH', text: `virtctl ssh -n ${namespace} vm/${vms.controlPlane}` },
    { label: 'worker SSH', text: `virtctl ssh -n ${namespace} vm/${vms.worker}` },
    { label: 'object listing', text: `kubectl get vm,vmi,dv,pvc -n ${namespace}` },
  ];
  return (
    <div className="access">
      <dl className="facts">
        <div>
          <dt>Namespace</dt>
          <dd className="mono">{namespace}</dd>
        </div>
        <div>
          <dt>Control-plane VM</dt>
          <dd className="mono">{vms.controlPlane}</dd>
        </div>
        <div>
          <dt>Worker VM</dt>
          <dd className="mono">{vms.worker}</dd>
        </div>
        <div>
          <dt>Inside the lab</dt>
          <dd>
            <span className="mono">{guestIdentity['control-plane'].hostname}</span> ({guestIdentity['control-plane'].labIp}) and{' '}
            <span className="mono">{guestIdentity.worker.hostname}</span> ({guestIdentity.worker.labIp})
          </dd>
        </div>
      </dl>
      <ul className="command-list" aria-label="Commands">
        {commands.map((command) => (
          <li key={command.label} className="command">
            <code className="command-text">{command.text}</code>
            <CopyButton text={command.text} label={command.label} />
          </li>
        ))}
      </ul>
      {simulated && (
        <p className="muted small">The cluster is simulated: these are the commands for a real one; here nothing answers them.</p>
      )}
    </div>
  );
}
