import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

export function registerPublicRoutes(_app: FastifyInstance, _ctx: ApiContext): void {}
