/**
 * cardauth's public API: named exports only. Everything else is internal.
 *
 * @example
 * import { loadServerConfig, startServer, systemClock, createJsonLogger } from 'cardauth';
 * const server = await startServer({ config: loadServerConfig(process.env), logger: createJsonLogger(process.stdout), clock: systemClock });
 */
export { createApp, type AppDeps } from './app';
export { createCardauth, type Cardauth, type CardauthOptions } from './embed';
export type { LoggedInRequest, RequireLoginOptions } from './http/require-login';
export { createServices, createStores, type Services } from './services';
export { startServer, type RunningServer } from './server';
export { loadServerConfig, loadAgentConfig, configTable, SERVER_KEYS, AGENT_KEYS, type ServerConfig, type AgentConfig } from './config';
export { CardauthError, isCardauthError, type ErrorCode } from './errors';
export { systemClock, type Clock } from './clock';
export { createJsonLogger, silentLogger, type Logger } from './logger';
export { normaliseUid, type Uid } from './contract/uid';
export { createCardPasswordStrategy } from './strategies/card-password';
export { createAgentJwsVerifier, CardRejectedError } from './strategies/agent-jws';
export { createStatementVerifier, type CardStatement } from './strategies/card-statement';
export { createTapoutVerifier } from './strategies/tapout-event';
export { STATEMENT_ALGS, STATEMENT_TYP, EVENT_TYP, type StatementAlg } from './contract/agent-statements';
export type { SessionUser } from './strategies/session-user';
export { createAuditLog, type AuditLog } from './audit/log';
export { verifyAuditChain, type AuditVerifyResult } from './audit/verify';
export { AUDIT_EVENTS, auditEventsTable, type AuditEventType } from './audit/events';
export type { AuditEventInput, AuditRecord } from './audit/record';
export { signStatement, signTapout } from './card-agent/sign-statement';
export { startAgent } from './card-agent/main';
export { createReaderWatcher, type ReaderWatcher } from './card-agent/reader-watcher';
