import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';

export function registerCameraRoutes(_app: FastifyInstance, _ctx: ApiContext): void {}
