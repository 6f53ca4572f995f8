import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { DISTRIBUTOR_ID_MAX } from '../events/validate.js';

/**
 * Who a request speaks for (SPEC 6). A distributor token is `d.<id>.<mac>`: the id is in the
 * clear so the dashboard knows whose page it shows, and the MAC (HMAC-SHA256 of the id under
 * the server's secret) is what proves it. Changing the secret revokes every token at once.
 */
export type Principal =
  { readonly kind: 'admin' } | { readonly kind: 'distributor'; readonly id: number };

const TOKEN_PREFIX = 'd.';
/** A MAC label, so a token can never be mistaken for an HMAC made for another purpose. */
const MAC_CONTEXT = 'upline distributor token v1:';

export function distributorToken(secret: string, distributorId: number): string {
  return `${TOKEN_PREFIX}${distributorId}.${mac(secret, distributorId)}`;
}

function mac(secret: string, distributorId: number): string {
  return createHmac('sha256', secret).update(`${MAC_CONTEXT}${distributorId}`).digest('base64url');
}

/**
 * Equal-time comparison of two secrets of any length: both sides are hashed first, so the
 * comparison neither leaks where they differ nor their lengths.
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** `Authorization: Bearer X` → X; anything else → ''. */
export function bearerOf(header: string): string {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? '';
}

export interface AuthSecrets {
  readonly ingestKey: string;
  readonly adminToken: string;
  readonly secret: string;
}

export class Auth {
  constructor(private readonly secrets: AuthSecrets) {}

  isIngestKey(key: string): boolean {
    return key !== '' && sameSecret(key, this.secrets.ingestKey);
  }

  /** The principal a dashboard or API token speaks for, or null when it proves nothing. */
  principal(token: string): Principal | null {
    if (token === '') return null;
    if (sameSecret(token, this.secrets.adminToken)) return { kind: 'admin' };
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const dot = token.indexOf('.', TOKEN_PREFIX.length);
    if (dot === -1) return null;
    const idText = token.slice(TOKEN_PREFIX.length, dot);
    if (!/^[1-9][0-9]{0,9}$/.test(idText)) return null;
    const id = Number(idText);
    if (id > DISTRIBUTOR_ID_MAX) return null;
    return sameSecret(token.slice(dot + 1), mac(this.secrets.secret, id))
      ? { kind: 'distributor', id }
      : null;
  }

  /** Whether `principal` may read distributor `id`'s data: the admin, or that distributor. */
  static mayRead(principal: Principal | null, id: number): boolean {
    if (principal === null) return false;
    return principal.kind === 'admin' || principal.id === id;
  }
}
