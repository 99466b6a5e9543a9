'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { Button } from '~/components/ui/button';
import { Card } from '~/components/ui/card';
import { ErrorState } from '~/components/ui/error-state';
import { LoadingArea } from '~/components/ui/skeleton';
import { StatusIndicator } from '~/components/ui/status-indicator';
import { useTRPC } from '~/lib/trpc';

/** A password the server generated: shown here once, never again. */
interface Issued {
  username: string;
  password: string;
}

/** Accounts: create (with a generated password), reset a password, disable and enable. */
export function UsersCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.users.list.queryOptions());
  const [issued, setIssued] = useState<Issued | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const show = (account: { username: string | null; email: string; password: string }) => {
    setIssued({ username: account.username ?? account.email, password: account.password });
    void refresh();
  };
  const create = useMutation(trpc.users.create.mutationOptions({ onSuccess: show }));
  const reset = useMutation(trpc.users.resetPassword.mutationOptions({ onSuccess: show }));
  const setDisabled = useMutation(trpc.users.setDisabled.mutationOptions({ onSuccess: () => void refresh() }));
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<'learner' | 'admin'>('learner');
  const usernameId = useId();
  const roleId = useId();

  function submit(event: FormEvent) {
    event.preventDefault();
    setIssued(null);
    create.mutate({ username: username.trim(), role }, { onSuccess: () => setUsername('') });
  }

  const actionError = create.error ?? reset.error ?? setDisabled.error;
  return (
    <Card title="Accounts" description="Learners see and end only their own sessions; admins see all of them and manage accounts.">
      <form onSubmit={submit} className="form-inline" aria-label="New account">
        <label htmlFor={usernameId} className="field-label">
          Username
        </label>
        <input
          id={usernameId}
          className="input"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={username}
          onChange={(event) => setUsername(event.target.value)}
        />
        <label htmlFor={roleId} className="field-label">
          Role
        </label>
        <select id={roleId} className="input" value={role} onChange={(event) => setRole(event.target.value as 'learner' | 'admin')}>
          <option value="learner">learner</option>
          <option value="admin">admin</option>
        </select>
        <Button type="submit" variant="primary" busy={create.isPending} disabled={!username.trim()}>
          Create account
        </Button>
      </form>
      {issued && (
        <p className="callout callout-info issued-password" role="status">
          Password for <strong>{issued.username}</strong> (shown once; pass it on now):{' '}
          <span className="secret-value" data-testid="issued-password">
            {issued.password}
          </span>
        </p>
      )}
      {actionError && (
        <p className="form-error" role="alert">
          {actionError.message}
        </p>
      )}
      {users.isPending ? (
        <LoadingArea label="Loading accounts" lines={3} />
      ) : users.isError ? (
        <ErrorState title="Could not load the accounts" error={users.error} onRetry={() => void users.refetch()} />
      ) : (
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Active sessions</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data.map((account) => {
              const name = account.username ?? account.email;
              return (
                <tr key={account.id}>
                  <th scope="row" data-label="Account">
                    {name}
                  </th>
                  <td data-label="Role">{account.role}</td>
                  <td data-label="Status">
                    <StatusIndicator tone={account.disabled ? 'neutral' : 'success'} label={account.disabled ? 'Disabled' : 'Active'} />
                  </td>
                  <td data-label="Active sessions" className="num">
                    {account.activeSessions}
                  </td>
                  <td className="row-actions">
                    {account.username && (
                      <Button size="small" onClick={() => reset.mutate({ id: account.id })} aria-label={`Reset the password of ${name}`}>
                        Reset password
                      </Button>
                    )}
                    <Button
                      size="small"
                      variant={account.disabled ? 'secondary' : 'danger'}
                      onClick={() => setDisabled.mutate({ id: account.id, disabled: !account.disabled })}
                      aria-label={`${account.disabled ? 'Enable' : 'Disable'} ${name}`}
                    >
                      {account.disabled ? 'Enable' : 'Disable'}
                    </Button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Card>
  );
}
