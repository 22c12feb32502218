/** A named console user from ADMIN_USERS: a name and the bcrypt hash of its password. */
export interface ConsoleUser {
  name: string;
  passwordHash: string;
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
// bcrypt's modular-crypt form: $2a$/$2b$/$2y$, a two-digit cost, then 53 characters of salt and hash.
const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/**
 * Parses `ADMIN_USERS` (`name:bcrypthash,name:bcrypthash`). Returns null when any entry is malformed or a
 * name repeats, so config can refuse to start instead of silently dropping a user.
 */
export function parseAdminUsers(text: string): ConsoleUser[] | null {
  const users: ConsoleUser[] = [];
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const colon = entry.indexOf(':');
    if (colon < 1) return null;
    const name = entry.slice(0, colon);
    const passwordHash = entry.slice(colon + 1);
    if (!NAME.test(name) || !BCRYPT_HASH.test(passwordHash)) return null;
    if (users.some((u) => u.name === name)) return null;
    users.push({ name, passwordHash });
  }
  return users;
}
