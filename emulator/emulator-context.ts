import { FaultTable } from './faults';
import { shortId } from './ids';
import {
  REALM_PATH,
  type EmulatorPartnerInput,
  type PartnerIdClaim,
  type RevokedMintStatus,
  type ResolvedApp,
  type ResolvedOptions,
} from './options';
import { RateLimiter } from './rate-limiter';
import { RequestLog } from './request-log';
import { loadStateFile, saveStateFile } from './state-file';
import { inspectBearer } from './tokens';
import {
  emptyPartnerData,
  emptyPersistentState,
  type OpcUser,
  type Partner,
  type PartnerData,
  type PersistentState,
} from './state';

/** An /oauth2/auth request that passed validation, waiting for the login form. */
export interface AuthorizeSession {
  kind: 'authorize';
  id: string;
  appId: string;
  clientId: string;
  /** Where the answer goes: the given redirect_uri or the client's only registered one. */
  redirectUri: string;
  /** Whether redirect_uri was a request parameter (only then is it bound to the code). */
  redirectUriGiven: boolean;
  state?: string;
  scopes: string[];
  codeChallenge?: string;
  createdAt: number;
}

/** An opened installation or invitation link, carried between the OPC login and consent pages. */
export interface InstallSession {
  kind: 'install';
  id: string;
  appId: string;
  /** Set when the session came from an invitation link. */
  invitation?: string;
  createdAt: number;
  /** Set once the login form succeeded (with the rights to install); the consent form needs it. */
  username?: string;
  partnerId?: string;
}

export type LoginSession = AuthorizeSession | InstallSession;

/** Runtime switches (`GET/PATCH /__admin/settings`); reset returns them to the configured options. */
export interface EmulatorSettings {
  dropCodeChallenge: boolean;
  partnerIdClaim: PartnerIdClaim;
  revokedMintStatus: RevokedMintStatus;
  reinstallKeepsInstallationId: boolean;
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
  /** OTTO's lower limit for `/products` GET (docs/otto-api.md §5.8), per partner, on top of the partner's. */
  readonly productsReadLimiter: RateLimiter;
  publicBaseUrl: string;
  settings: EmulatorSettings;

  constructor(readonly options: ResolvedOptions) {
    this.publicBaseUrl = options.publicBaseUrl;
    this.settings = this.initialSettings();
    this.requestLog = new RequestLog(options.requestLogLimit, options.now);
    this.faults = new FaultTable(options.random, (req) => inspectBearer(this, req).token?.partnerId);
    this.tokenLimiter = new RateLimiter(options.tokenRateLimitPerSecond, options.now);
    this.partnerLimiter = new RateLimiter(options.partnerRateLimitPerSecond, options.now);
    this.productsReadLimiter = new RateLimiter(options.productsReadRateLimitPerSecond, options.now);
    const loaded = options.stateFile ? loadStateFile(options.stateFile) : undefined;
    if (loaded) {
      this.state = loaded;
      this.addMissingConfiguredPartners();
    } else {
      this.state = this.initialState();
    }
  }

  get apps(): ResolvedApp[] {
    return this.options.apps;
  }

  now(): number {
    return this.options.now();
  }

  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  /** OTTO's issuer is its Keycloak realm (`https://api.otto.market/sec-api/auth/realms/otto-partner`). */
  issuer(): string {
    return this.options.issuer ?? `${this.publicBaseUrl}${REALM_PATH}`;
  }

  /** A public app's universal installation link; private apps have none. */
  installationUrl(app: ResolvedApp): string | undefined {
    return app.visibility === 'public'
      ? `${this.publicBaseUrl}/opc/apps/${encodeURIComponent(app.appId)}/install`
      : undefined;
  }

  invitationUrl(token: string): string {
    return `${this.publicBaseUrl}/opc/invitations/${token}`;
  }

  appById(appId: string): ResolvedApp | undefined {
    return this.apps.find((a) => a.appId === appId);
  }

  appByClientId(clientId: string): ResolvedApp | undefined {
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

  /** A random partner id not taken yet (1,700 random 8-digit ids collide ≈ 1.4 % of the time). */
  private unusedPartnerId(): string {
    for (;;) {
      const partnerId = `P${shortId(8, '0123456789')}`;
      if (!this.partner(partnerId)) return partnerId;
    }
  }

  createPartner(input: EmulatorPartnerInput): Partner {
    const partnerId = input.partnerId ?? this.unusedPartnerId();
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
    this.settings = this.initialSettings();
    this.sessions.clear();
    this.requestLog.clear();
    this.faults.clear();
    this.tokenLimiter.clear();
    this.partnerLimiter.clear();
    this.productsReadLimiter.clear();
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

  private initialSettings(): EmulatorSettings {
    return {
      dropCodeChallenge: this.options.dropCodeChallenge,
      partnerIdClaim: this.options.partnerIdClaim,
      revokedMintStatus: this.options.revokedMintStatus,
      reinstallKeepsInstallationId: this.options.reinstallKeepsInstallationId,
    };
  }

  private initialState(): PersistentState {
    this.state = emptyPersistentState();
    for (const partner of this.options.partners) this.createPartner(partner);
    return this.state;
  }
}
