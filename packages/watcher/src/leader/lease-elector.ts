import { randomUUID } from 'node:crypto';
import type { CoordinationV1Api, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import {
  describeError,
  kubeStatus,
  sleep,
  withTimeout,
  type Logger,
  V1MicroTime,
} from '@eatr/core';

export interface LeaseElectorOptions {
  readonly api: CoordinationV1Api;
  readonly namespace: string;
  readonly name: string;
  /** This process's identity in the Lease (pod name plus a random suffix, so restarts are distinct). */
  readonly identity: string;
  /** A standby takes over once the holder has not renewed for this long. */
  readonly leaseDurationMs: number;
  /** The leader gives up if it could not renew for this long (must be < leaseDurationMs). Default 2/3 of it. */
  readonly renewDeadlineMs?: number;
  /** How often to try to acquire or renew. Default 1/5 of the lease duration. */
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void | Promise<void>;
  readonly onStoppedLeading: () => void | Promise<void>;
  readonly log: Logger;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease with optimistic concurrency, as client-go does it:
 * a write with a stale resourceVersion fails (409), so at most one holder wins. Expiry is judged by how
 * long this process has seen the same record unchanged, not by comparing clocks across machines.
 */
export class LeaseElector {
  private readonly stopper = new AbortController();
  private running: Promise<void> | undefined;
  private leading = false;
  private lastRenewed = 0;
  private observed: { record: string; at: number } | undefined;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(private readonly o: LeaseElectorOptions) {
    this.renewDeadlineMs = o.renewDeadlineMs ?? Math.floor((o.leaseDurationMs * 2) / 3);
    this.retryPeriodMs = o.retryPeriodMs ?? Math.max(200, Math.floor(o.leaseDurationMs / 5));
  }

  static identity(podName: string): string {
    return `${podName}_${randomUUID().slice(0, 8)}`;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops competing; a leader releases the Lease so a standby takes over at once. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
    if (this.leading) {
      // Stop working first, then let a standby in: the other order gives a moment with two leaders.
      await this.setLeading(false);
      await this.release();
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopper.signal.aborted) {
      try {
        // Bound each attempt: a request to an unreachable API server may hang, and the leader must still
        // notice its deadline passing.
        const held = await withTimeout(
          this.tryAcquireOrRenew(),
          this.renewDeadlineMs,
          'lease request timed out',
        );
        if (held) this.lastRenewed = Date.now();
        if (held && !this.leading) await this.setLeading(true);
        if (!held && this.leading) await this.setLeading(false);
      } catch (error) {
        this.o.log.warn({ err: describeError(error), lease: this.o.name }, 'lease update failed');
      }
      // A leader that cannot renew in time steps down before a standby may take over.
      if (this.leading && Date.now() - this.lastRenewed > this.renewDeadlineMs) {
        this.o.log.warn(
          { renewDeadlineMs: this.renewDeadlineMs },
          'could not renew the lease in time; stepping down',
        );
        await this.setLeading(false);
      }
      await sleep(this.retryPeriodMs, this.stopper.signal);
    }
  }

  private async setLeading(leading: boolean): Promise<void> {
    this.leading = leading;
    this.o.log.info(
      { identity: this.o.identity, lease: `${this.o.namespace}/${this.o.name}` },
      leading ? 'became leader' : 'stopped leading',
    );
    try {
      await (leading ? this.o.onStartedLeading() : this.o.onStoppedLeading());
    } catch (error) {
      this.o.log.error({ err: describeError(error) }, 'leadership callback failed');
    }
  }

  /** Returns true when this process holds the Lease after the attempt. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.o;
    const now = new V1MicroTime();
    const durationSeconds = Math.max(1, Math.ceil(this.o.leaseDurationMs / 1000));
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (kubeStatus(error) !== 404) throw error;
      try {
        await api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (createError) {
        if (kubeStatus(createError) === 409) return false; // someone else created it first
        throw createError;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}|${String(millis(spec.renewTime))}|${spec.leaseTransitions ?? 0}`;
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const expired =
      holder === '' ||
      Date.now() - this.observed.at >= (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder !== identity && !expired) return false;
    const body: V1Lease = {
      ...lease,
      spec: microTimes({
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: now,
        ...(holder !== identity
          ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }
          : {}),
      }),
    };
    try {
      await api.replaceNamespacedLease({ name, namespace, body });
      return true;
    } catch (error) {
      if (kubeStatus(error) === 409) return false; // lost the race
      throw error;
    }
  }

  private async release(): Promise<void> {
    const { api, namespace, name, identity } = this.o;
    try {
      const lease = await api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      await api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: microTimes({
            ...lease.spec,
            holderIdentity: '',
            renewTime: new V1MicroTime(),
            leaseDurationSeconds: 1,
          }),
        },
      });
      this.o.log.info('released the lease');
    } catch (error) {
      this.o.log.warn(
        { err: describeError(error) },
        'could not release the lease; a standby takes over when it expires',
      );
    }
  }
}

/**
 * Lease times are MicroTime (six fractional digits); the API server rejects the three a Date gives.
 * @kubernetes/client-node 2.0 types them as Date but hands them back as the raw string (its
 * serializer has no mapping for V1MicroTime), so read either and re-wrap both on every write.
 */
function microTimes(spec: V1LeaseSpec): V1LeaseSpec {
  const acquireTime = millis(spec.acquireTime);
  const renewTime = millis(spec.renewTime);
  return {
    ...spec,
    ...(acquireTime !== undefined ? { acquireTime: new V1MicroTime(acquireTime) } : {}),
    ...(renewTime !== undefined ? { renewTime: new V1MicroTime(renewTime) } : {}),
  };
}

/** Milliseconds since the epoch of a Lease time, whether the client gave a Date or a string. */
function millis(time: Date | string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const ms = time instanceof Date ? time.getTime() : Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}
