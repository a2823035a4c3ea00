import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

export function registerEnterpriseRoutes(_app: FastifyInstance, _ctx: ApiContext): void {}
