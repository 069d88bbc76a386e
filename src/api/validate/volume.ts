/**
 * The Volume spec and status. A Volume is a named directory on one node (driver `local`, the
 * only one so far); its status says which node once a task using it has been placed.
 * Conform to kinds.ts.
 */
import { z } from 'zod';
import type { VolumeSpec, VolumeStatus } from '../kinds.js';

/** Drivers a Volume may name. */
export const VOLUME_DRIVERS = ['local'] as const;

/** The Volume spec schema. */
export const volumeSpecSchema = z.object({
  driver: z.string().default('local').superRefine((d, ctx) => {
    if (!(VOLUME_DRIVERS as readonly string[]).includes(d)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `a volume driver: local (the only driver; "${d}" is not supported)` });
    }
  }),
}).strict().transform((s): VolumeSpec => ({ driver: s.driver as VolumeSpec['driver'] }));

/** The Volume status schema (written by the placement controller); passthrough like other statuses. */
export const volumeStatusSchema = z.object({
  node: z.string().optional(),
  path: z.string().optional(),
  state: z.enum(['unbound', 'bound']).optional(),
  boundAt: z.string().optional(),
}).passthrough();

const statusConforms: (o: z.output<typeof volumeStatusSchema>) => VolumeStatus = (o) => o;
void statusConforms;
