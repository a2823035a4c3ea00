import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../tokens.js';
import { access } from '../access.js';
import type { ApiContext } from '../context.js';

const latLon = z.tuple([z.number(), z.number()]);
const point = z.tuple([z.number(), z.number()]);

export const siteGeometrySchema = z.object({
  site: z.object({ name: z.string(), timezone: z.string() }),
  cameras: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      kind: z.string(),
      berth: z.string().nullable(),
      position: latLon.nullable(),
      enabled: z.boolean(),
      inspector: z.string().nullable().describe('the inspector wearing a body_worn camera'),
      zones: z.array(z.object({ id: z.string(), name: z.string().nullable(), kind: z.string(), polygon: z.array(point) })),
      tripwires: z.array(z.object({ id: z.string(), name: z.string().nullable(), line: z.tuple([point, point]) })),
    }),
  ),
  berths: z.array(z.object({ id: z.string(), name: z.string(), polygon: z.array(latLon), quay_length_m: z.number(), depth_m: z.number().nullable() })),
  port_area: z.array(latLon).nullable(),
  channels: z.array(z.object({ id: z.string(), polygon: z.array(latLon), speed_limit_kn: z.number().nullable() })),
  inspectors: z.array(z.object({ id: z.string(), name: z.string() })),
  chart: z.object({ tile_url: z.string().nullable() }),
});
export type SiteGeometry = z.infer<typeof siteGeometrySchema>;

/**
 * The site's geometry for the command center's chart. Built from the site file
 * field by field (never a spread of it): stream URLs and credentials cannot leak.
 */
export function siteGeometry(ctx: ApiContext, tileUrl: string | null): SiteGeometry {
  const site = ctx.site;
  if (!site) return { site: { name: 'portwatch', timezone: 'UTC' }, cameras: [], berths: [], port_area: null, channels: [], inspectors: [], chart: { tile_url: tileUrl } };
  const anomalies = (site.ais as { anomalies?: { port_area?: [number, number][]; channels?: Array<{ id: string; polygon: [number, number][]; speed_limit_kn?: number }> } } | undefined)?.anomalies;
  return {
    site: { name: site.site.name, timezone: site.site.timezone },
    cameras: site.cameras.map((c) => ({
      id: c.id,
      name: c.name,
      kind: c.kind,
      berth: c.berth ?? null,
      position: (c.position as [number, number] | undefined) ?? null,
      enabled: c.enabled,
      inspector: c.inspector ?? null,
      zones: c.zones.map((z) => ({ id: z.id, name: z.name ?? null, kind: z.kind, polygon: z.polygon as [number, number][] })),
      tripwires: c.tripwires.map((t) => ({ id: t.id, name: t.name ?? null, line: t.line as [[number, number], [number, number]] })),
    })),
    berths: site.berths.map((b) => ({ id: b.id, name: b.name, polygon: b.polygon as [number, number][], quay_length_m: b.quay_length_m, depth_m: b.depth_m ?? null })),
    port_area: anomalies?.port_area ?? null,
    channels: (anomalies?.channels ?? []).map((c) => ({ id: c.id, polygon: c.polygon, speed_limit_kn: c.speed_limit_kn ?? null })),
    inspectors: site.inspectors.map((i) => ({ id: i.id, name: i.name })),
    // The server option wins over the site file's chart.tile_url (one deployment, several sites).
    chart: { tile_url: tileUrl ?? site.chart.tile_url ?? null },
  };
}

export function registerSiteRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/site',
    { schema: { ...access(...ROLES), tags: ['site'], summary: "the site's geometry: port area, channels, berths, cameras (no stream URLs)", response: { 200: siteGeometrySchema } } },
    async () => siteGeometry(ctx, ctx.tileUrl),
  );
}
