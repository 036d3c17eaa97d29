import { authorize } from '../admin/permissions';
import { recordChange, type ChangedBy } from '../admin/record-change';
import type { AuditSink } from '../audit/record';
import type { SkudIntegration, SkudStore } from './integrations';

const details = (i: SkudIntegration) => ({ skudId: i.id, name: i.name, fingerprint: i.fingerprint, alg: i.alg });

/**
 * An officer's changes to the access-control integrations (`skud add`, `skud remove`), checked
 * against the separation of duties (only an officer or a chief admin; an auditor only reads)
 * and audited with the actor. Run them once requireAuditTrail has passed.
 *
 * @example
 * const i = await createSkudAdmin({ skud, audit }).add(by, { name: 'Parsec', publicJwk });
 */
export function createSkudAdmin(s: { skud: Pick<SkudStore, 'add' | 'remove'>; audit: AuditSink }) {
  return {
    async add(by: ChangedBy, args: { name: string; publicJwk: unknown }): Promise<SkudIntegration> {
      await authorize(s.audit, by, 'skud.added');
      const i = await s.skud.add(args);
      await recordChange(s.audit, by, { type: 'skud.added', outcome: 'success', details: details(i) }, `integration ${i.id} was added`);
      return i;
    },
    async remove(by: ChangedBy, id: string): Promise<SkudIntegration> {
      await authorize(s.audit, by, 'skud.removed', undefined, { details: { skudId: id } });
      const i = await s.skud.remove(id);
      await recordChange(s.audit, by, { type: 'skud.removed', outcome: 'success', details: details(i) }, `integration ${i.id} was removed`);
      return i;
    },
  };
}
