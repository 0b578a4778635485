// Text for `login` and `logout`.
import type { LoginResult, LogoutResult } from '../core/login.ts';

export function loginText(r: LoginResult): string {
  return `Login succeeded for ${r.registry} (credentials stored in ${r.store})`;
}

export function logoutText(r: LogoutResult): string {
  return r.removed ? `Removed credentials for ${r.registry}` : `No credentials were stored for ${r.registry}`;
}
