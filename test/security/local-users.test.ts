// Finding 4 of issue 16 (second half): no password needs to be on a command line. A local user
// may be given with a bcrypt hash instead of a password (Concourse's --add-local-user
// name:$2a$…), and users may come from a file (--add-local-users-file) or the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { isBcryptHash, LocalAuth } from '../../src/api/auth.ts';
import { FlagError, readLocalUsersFile } from '../../src/web/options.ts';

// `htpasswd -nbBC 4 admin s3cret` (a $2y$ hash, as Apache writes them)
const HTPASSWD = '$2y$04$qc1N6KkKzO4KNCzl7sUJueFw12Zxt6T4m2TQpKbNoCzJM6HhOy7kK';

test('a bcrypt hash is accepted in place of a password ($2a$, $2b$, $2y$)', async () => {
  const hash = bcrypt.hashSync('pa:ss', 4);
  const auth = new LocalAuth({ users: [`alice:${hash}`, `admin:${HTPASSWD}`, `bob:${hash.replace('$2b$', '$2a$')}`, 'carol:plain'] });
  assert.equal(await auth.verifyPassword('alice', 'pa:ss'), true);
  assert.equal(await auth.verifyPassword('alice', hash), false, 'the hash itself is not the password');
  assert.equal(await auth.verifyPassword('alice', 'wrong'), false);
  assert.equal(await auth.verifyPassword('admin', 's3cret'), true);
  assert.equal(await auth.verifyPassword('bob', 'pa:ss'), true);
  assert.equal(await auth.verifyPassword('carol', 'plain'), true, 'plain passwords still work');
  assert.equal(isBcryptHash('$2a$10$short'), false, 'only a whole hash is a hash');
});

test('--add-local-users-file: one user a line, comments skipped, mistakes name the line but not the password', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jw-users-'));
  try {
    const file = join(dir, 'users');
    writeFileSync(file, `# the team's users\n\nalice:${HTPASSWD}\n  bob:pw:with:colons  \n`);
    assert.deepEqual(readLocalUsersFile(file), [`alice:${HTPASSWD}`, 'bob:pw:with:colons']);
    writeFileSync(file, 'alice:ok\nsecret-password-without-a-name\n');
    assert.throws(() => readLocalUsersFile(file), (err: Error) => {
      assert.ok(err instanceof FlagError);
      assert.match(err.message, new RegExp(`^--add-local-users-file: ${file}:2: local user must be given as name:password`));
      return true;
    });
    writeFileSync(file, 'alice:\n');
    assert.throws(() => readLocalUsersFile(file), /users:1: local user must be given as name:password \(got 'alice:…'\)/);
    assert.throws(() => readLocalUsersFile(join(dir, 'missing')), /^Error: --add-local-users-file: cannot read .*missing: ENOENT$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
