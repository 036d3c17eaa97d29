import type { Request } from 'express';
import type { RequestSource } from '../policy/lockout';

/** The client address (honouring `trust proxy`) and user agent, for the audit and the IP limit. */
export function requestSource(req: Request): RequestSource {
  const ua = req.get('user-agent');
  return { ip: req.ip ?? req.socket.remoteAddress ?? 'unknown', ...(ua ? { userAgent: ua } : {}) };
}
