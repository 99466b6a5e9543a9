import type { inferRouterOutputs } from '@trpc/server';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { AppRouter } from '~/server/trpc/root';

/** React bindings for the API: `useTRPC()` gives typed query/mutation/subscription options. */
export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

type Outputs = inferRouterOutputs<AppRouter>;
export type ClusterInfo = Outputs['cluster']['info'];
export type SessionSummary = Outputs['sessions']['list'][number];
export type SessionDetail = Outputs['sessions']['get'];
export type SessionStep = SessionDetail['steps'][number];
export type ClusterObject = SessionDetail['objects'][number];
export type GoldenStatus = Outputs['snapshots']['status'];
export type GoldenDisk = GoldenStatus['disks'][number];
export type MetricsSummary = Outputs['metrics']['summary'];
export type PoolStatus = Outputs['pool']['status'];
export type MetricsSeries = Outputs['metrics']['series'];
export type MetricsDistribution = Outputs['metrics']['distribution'];
export type MetricsSteps = Outputs['metrics']['steps'];
export type MetricsRates = Outputs['metrics']['rates'];
