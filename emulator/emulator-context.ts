import { FaultTable } from './faults';
import { shortId } from './ids';
import type { EmulatorApp, EmulatorPartnerInput, ResolvedOptions } from './options';
import { RateLimiter } from './rate-limiter';
import { RequestLog } from './request-log';
import { loadStateFile, saveStateFile } from './state-file';
import {
  emptyPartnerData,
  emptyPersistentState,
  type OpcUser,
  type Partner,
  type PartnerData,
  type PersistentState,
} from './state';

/** An authorize request that passed validation, carried between the login and consent pages. */
export interface LoginSession {
  id: string;
  appId: string;
  clientId: string;
  redirectUri: string;
  state?: string;
  scopes: string[];
  codeChallenge?: string;
  createdAt: number;
  /** Set once the login form succeeded; the consent form is refused without it. */
  username?: string;
  partnerId?: string;
}

export class EmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The one mutable heart of the emulator that every router reads. Routers always go through `ctx.state`
 * (never keep a reference), because reset and the state file replace it wholesale.
 */
export class EmulatorContext {
  state: PersistentState;
  /** In memory only: a restart ends half-finished logins, as it would at OTTO. */
  readonly sessions = new Map<string, LoginSession>();
  readonly requestLog: RequestLog;
  readonly faults: FaultTable;
  readonly tokenLimiter: RateLimiter;
  readonly partnerLimiter: RateLimiter;
  publicBaseUrl: string;

  constructor(readonly options: ResolvedOptions) {
    this.publicBaseUrl = options.publicBaseUrl;
    this.requestLog = new RequestLog(options.requestLogLimit, options.now);
    this.faults = new FaultTable(options.random);
    this.tokenLimiter = new RateLimiter(options.tokenRateLimitPerSecond, options.now);
    this.partnerLimiter = new RateLimiter(options.partnerRateLimitPerSecond, options.now);
    const loaded = options.stateFile ? loadStateFile(options.stateFile) : undefined;
    if (loaded) {
      this.state = loaded;
      this.addMissingConfiguredPartners();
    } else {
      this.state = this.initialState();
    }
  }

  get apps(): EmulatorApp[] {
    return this.options.apps;
  }

  now(): number {
    return this.options.now();
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  issuer(): string {
    return this.options.issuer ?? this.publicBaseUrl;
  }

  appById(appId: string): EmulatorApp | undefined {
    return this.apps.find((a) => a.appId === appId);
  }

  appByClientId(clientId: string): EmulatorApp | undefined {
    return this.apps.find((a) => a.clientId === clientId);
  }

  partner(partnerId: string): Partner | undefined {
    return this.state.partners.find((p) => p.partnerId === partnerId);
  }

  findUser(username: string): { user: OpcUser; partner: Partner } | undefined {
    for (const partner of this.state.partners) {
      const user = partner.users.find((u) => u.username === username);
      if (user) return { user, partner };
    }
    return undefined;
  }

  partnerData(partnerId: string): PartnerData {
    const existing = this.state.data[partnerId];
    if (existing) return existing;
    const created = emptyPartnerData();
    this.state.data[partnerId] = created;
    return created;
  }

  createPartner(input: EmulatorPartnerInput): Partner {
    const partnerId = input.partnerId ?? `P${shortId(8, '0123456789')}`;
    if (this.partner(partnerId))
      throw new EmulatorError(409, 'partner_exists', `partner ${partnerId} exists`);
    const names = new Set<string>();
    for (const user of input.users) {
      // Usernames are global: the login page does not ask which partner a user belongs to.
      if (names.has(user.username) || this.findUser(user.username)) {
        throw new EmulatorError(409, 'username_taken', `username ${user.username} is already taken`);
      }
      names.add(user.username);
    }
    const partner: Partner = {
      partnerId,
      users: input.users.map((u) => ({ ...u })),
      createdAt: this.nowIso(),
    };
    this.state.partners.push(partner);
    this.partnerData(partnerId);
    return partner;
  }

  /** Back to the configured start: configured partners only, no installations, tokens, data, log or faults. */
  reset(): void {
    this.state = this.initialState();
    this.sessions.clear();
    this.requestLog.clear();
    this.faults.clear();
    this.tokenLimiter.clear();
    this.partnerLimiter.clear();
    this.persist();
  }

  persist(): void {
    if (this.options.stateFile) saveStateFile(this.options.stateFile, this.state);
  }

  /** A state file from before a partner was configured (e.g. EMULATOR_SEED_DEMO turned on later) gains it. */
  private addMissingConfiguredPartners(): void {
    for (const input of this.options.partners) {
      if (input.partnerId && this.partner(input.partnerId)) continue;
      if (input.users.some((u) => this.findUser(u.username))) continue;
      this.createPartner(input);
    }
  }

  private initialState(): PersistentState {
    this.state = emptyPersistentState();
    for (const partner of this.options.partners) this.createPartner(partner);
    return this.state;
  }
}
