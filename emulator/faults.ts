import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { uuid } from './ids';
import { facts } from './request-log';

/** POST /__admin/faults body (docs/design.md §6). Unknown fields are ignored. */
export const faultInputSchema = z.object({
  method: z
    .string()
    .min(1)
    .transform((m) => m.toUpperCase())
    .optional(),
  pathPattern: z.string().min(1).refine(isValidRegex, 'pathPattern must be a valid regular expression'),
  status: z.number().int().min(100).max(599).optional(),
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  probability: z.number().min(0).max(1).optional(),
  times: z.number().int().min(1).optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  body: z.unknown().optional(),
  /**
   * Only requests whose Bearer token belongs to this partner (an installation or user token of theirs).
   * A test's own seller then meets the fault, not another seller of the same emulator whose transfer
   * happens to run at that moment.
   */
  partnerId: z.string().min(1).optional(),
});

export type FaultInput = z.infer<typeof faultInputSchema>;

export interface Fault extends FaultInput {
  id: string;
  /** How many more times it fires; undefined means forever. */
  remaining?: number;
  fired: number;
}

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

export class FaultTable {
  private faults: Fault[] = [];

  /**
   * @param partnerOf the partner a request's Bearer token belongs to (undefined without one); asked at
   *   most once per request: when a fault scoped to a partner matches its method and path, or one fires.
   */
  constructor(
    private readonly random: () => number,
    private readonly partnerOf: (req: Request) => string | undefined = () => undefined,
  ) {}

  add(input: FaultInput): Fault {
    const fault: Fault = { ...input, id: uuid(), fired: 0, remaining: input.times };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  /**
   * The first matching fault that decides to fire; consumes one of its `times`. `partner` is the
   * request's partner, looked up once on first use.
   */
  private pick(req: Request, partner: () => string | undefined): Fault | undefined {
    for (const fault of this.faults) {
      if (fault.method && fault.method !== req.method) continue;
      if (!new RegExp(fault.pathPattern).test(req.path)) continue;
      if (fault.partnerId !== undefined && partner() !== fault.partnerId) continue;
      if (this.random() >= (fault.probability ?? 1)) continue;
      fault.fired += 1;
      if (fault.remaining !== undefined) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
      }
      return fault;
    }
    return undefined;
  }

  middleware(): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      if (req.path.startsWith('/__admin')) return next();
      let known: { partnerId: string | undefined } | undefined;
      const partner = () => (known ??= { partnerId: this.partnerOf(req) }).partnerId;
      const fault = this.pick(req, partner);
      if (!fault) return next();
      const f = facts(res);
      f.fault = fault.id;
      // A fault answers before the route reads the token: name its partner here, so the log says whose it was.
      const partnerId = partner();
      if (partnerId !== undefined) f.partnerId = partnerId;
      // Real wall-clock delay on purpose: latency faults exist to exercise the client's timeouts.
      if (fault.latencyMs) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
      if (fault.status === undefined) return next();
      if (fault.retryAfterSeconds !== undefined) res.set('Retry-After', String(fault.retryAfterSeconds));
      // Without a body of its own, the generic error body (docs/otto-api.md §5.7). Retry-After only on request:
      // OTTO documents no such header.
      res.status(fault.status).json(
        fault.body ?? {
          errors: [
            {
              path: req.path,
              title: 'Injected fault',
              detail: `fault ${fault.id} answered ${fault.status}`,
              logref: fault.id,
            },
          ],
        },
      );
    };
  }
}
