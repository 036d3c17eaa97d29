import type { AuditIntegrity } from '../../audit/integrity';
import type { AuditQueryService } from '../../audit/query-service';
import type { AuditSink } from '../../audit/record';
import type { ActorLookup } from '../acting-as';

/** What the auditor's pages work with: the query service, the integrity checks, and where their reads are recorded (src/http/audit-read.ts). */
export interface AuditPagesDeps {
  query: AuditQueryService;
  integrity: AuditIntegrity;
  audit: AuditSink;
  accounts: ActorLookup;
}
