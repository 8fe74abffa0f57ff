import type { PipedriveEmulatorUser } from './emulator.types.js';

export interface CompanyProfile {
  id: number;
  name: string;
  /** Subdomain, as in `company_domain`. */
  domain: string;
}

export interface UserProfile {
  id: number;
  companyId: number;
  name: string;
  email: string;
}

/** The companies and users the emulator knows (shared by OAuth and the API); unknown ones are created on first mention. */
export class Directory {
  private readonly companies = new Map<number, CompanyProfile>();
  private readonly users = new Map<string, UserProfile>();

  company(id: number): CompanyProfile {
    let company = this.companies.get(id);
    if (!company) {
      company = { id, name: `Company ${id}`, domain: `company${id}` };
      this.companies.set(id, company);
    }
    return company;
  }

  user(companyId: number, userId: number): UserProfile {
    const key = `${companyId}:${userId}`;
    let user = this.users.get(key);
    if (!user) {
      this.company(companyId);
      user = { id: userId, companyId, name: `User ${userId}`, email: `user${userId}@company${companyId}.example` };
      this.users.set(key, user);
    }
    return user;
  }

  upsert(input: PipedriveEmulatorUser): UserProfile {
    const user = this.user(input.companyId, input.userId);
    if (input.name !== undefined) user.name = input.name;
    if (input.email !== undefined) user.email = input.email;
    if (input.companyName !== undefined) {
      const company = this.company(input.companyId);
      company.name = input.companyName;
      company.domain = slug(input.companyName) || company.domain;
    }
    return user;
  }
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
