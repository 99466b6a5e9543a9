import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { SignInForm } from '~/components/auth/sign-in-form';
import { currentIdentity, safeNext } from '~/server/page-auth';
import { getRuntime } from '~/server/runtime';

export const metadata: Metadata = { title: 'Sign in' };

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export default async function Page({ searchParams }: Props) {
  const next = safeNext((await searchParams).next);
  if (await currentIdentity()) redirect(next);
  const { config } = await getRuntime();
  return <SignInForm next={next} oidcName={config.auth.oidc?.name ?? null} />;
}
