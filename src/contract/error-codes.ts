/**
 * The error codes both programs send over the wire, and the HTTP status each
 * one answers with. A refusal's body is `{"error":{"code","message"}}`
 * (plus `retryAfterSec` when the client should wait), written by
 * src/error-handler.ts on the server and on the agent's loopback bridge, and
 * read by the agent's server client and the login page. A code, once
 * published, keeps its meaning.
 */
export type ErrorCode =
  // request edge
  | 'bad_request'
  | 'body_too_large'
  | 'origin_forbidden'
  | 'csrf_failed'
  | 'not_found'
  | 'unauthenticated'
  | 'forbidden'
  | 'step_up_required'
  // card step
  | 'card_rejected'
  | 'nonce_missing'
  // password step
  | 'login_failed'
  | 'locked'
  | 'card_step_required'
  | 'attempt_in_progress'
  | 'enrollment_pending'
  // sessions
  | 'session_locked'
  | 'session_expired'
  | 'session_not_found'
  | 'session_limit'
  // UID and card data
  | 'uid_malformed'
  | 'uid_length'
  | 'uid_random'
  // card reading at the agent (PC/SC GET DATA status words and transport)
  | 'card_end_of_data'
  | 'card_operation_failed'
  | 'card_function_unsupported'
  | 'card_class_unsupported'
  | 'card_status_unknown'
  | 'card_response_malformed'
  | 'card_io_failed'
  | 'card_absent'
  | 'card_unreadable'
  | 'reader_not_found'
  // store
  | 'login_taken'
  | 'account_not_found'
  | 'card_bound'
  | 'roles_changed'
  | 'card_revoked'
  | 'card_limit'
  | 'password_weak'
  | 'password_contains_name'
  | 'password_reused'
  | 'password_change_required'
  | 'card_not_found'
  | 'enrollment_not_found'
  | 'agent_not_found'
  | 'agent_state'
  | 'rate_limited'
  | 'client_exists'
  | 'client_not_found'
  // presence gate (СКУД)
  | 'skud_rejected'
  | 'skud_replayed'
  | 'skud_exists'
  | 'skud_not_found'
  | 'presence_required'
  // card agent
  | 'tap_timeout'
  | 'superseded'
  // config / cli
  | 'config_invalid'
  | 'usage'
  // infrastructure
  | 'unavailable'
  | 'audit_unavailable';

export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  body_too_large: 413,
  origin_forbidden: 403,
  csrf_failed: 403,
  not_found: 404,
  unauthenticated: 401,
  forbidden: 403,
  step_up_required: 401,
  card_rejected: 401,
  nonce_missing: 400,
  login_failed: 401,
  locked: 423,
  card_step_required: 401,
  attempt_in_progress: 409,
  enrollment_pending: 202,
  session_locked: 401,
  session_expired: 401,
  session_not_found: 404,
  session_limit: 409,
  uid_malformed: 400,
  uid_length: 400,
  uid_random: 400,
  card_end_of_data: 422,
  card_operation_failed: 422,
  card_function_unsupported: 422,
  card_class_unsupported: 422,
  card_status_unknown: 422,
  card_response_malformed: 422,
  card_io_failed: 503,
  card_absent: 409,
  card_unreadable: 422,
  reader_not_found: 404,
  login_taken: 409,
  account_not_found: 404,
  card_bound: 409,
  roles_changed: 409,
  card_revoked: 409,
  card_limit: 409,
  password_weak: 400,
  password_contains_name: 400,
  password_reused: 400,
  password_change_required: 403,
  card_not_found: 404,
  enrollment_not_found: 404,
  agent_not_found: 404,
  agent_state: 409,
  rate_limited: 429,
  client_exists: 409,
  client_not_found: 404,
  skud_rejected: 401,
  skud_replayed: 409,
  skud_exists: 409,
  skud_not_found: 404,
  presence_required: 403,
  tap_timeout: 408,
  superseded: 409,
  config_invalid: 500,
  usage: 400,
  unavailable: 503,
  audit_unavailable: 503,
};

