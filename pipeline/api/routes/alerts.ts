import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

export function registerAlertRoutes(_app: FastifyInstance, _ctx: ApiContext): void {}
