import type { FastifyRequest } from 'fastify';
import type { ControlPlane } from '../controlPlane.js';

/** What every resource plugin is registered with. */
export interface ResourceOptions {
  controlPlane: ControlPlane;
}

/** The actor recorded in the audit log for a mutation made over the API. */
export function operator(request: FastifyRequest): string {
  return `operator@${request.ip}`;
}
