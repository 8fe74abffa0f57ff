import type { CompanyProfile, UserProfile } from '../directory.js';
import { SEED_EPOCH } from './company-data.js';
import { v1Time } from './resource-definition.js';

const SIGNED_UP = v1Time(SEED_EPOCH);

/** `GET /api/v1/users/me` for the token's user, with the fields apps read at install time. */
export function usersMe(user: UserProfile, company: CompanyProfile): Record<string, unknown> {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    phone: null,
    company_id: company.id,
    company_name: company.name,
    company_domain: company.domain,
    company_country: 'EE',
    company_industry: null,
    locale: 'en_US',
    lang: 1,
    language: { language_code: 'en', country_code: 'US' },
    timezone_name: 'Europe/Tallinn',
    timezone_offset: '+02:00',
    default_currency: 'EUR',
    icon_url: null,
    active_flag: true,
    activated: true,
    is_admin: 1,
    is_you: true,
    role_id: 1,
    has_created_company: true,
    access: [{ app: 'sales', admin: true, permission_set_id: `${company.id}-sales-admin` }],
    created: SIGNED_UP,
    modified: SIGNED_UP,
    last_login: SIGNED_UP,
  };
}
