import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadDotEnv, parseConfig } from '../core/config.ts';
import { DB_FILE } from '../data/store.ts';
import { generatePassword, hashPassword } from '../console/auth.ts';
import { fail, openConfiguredStore, orFail, parseCli } from './cli.ts';
import { newDatabaseNote } from './server-file.ts';

/**
 * `npm run user -- add --email a@b --name "Ana" --role admin [--password …]`
 * (prints a generated password when none is given), `list`, `disable --email …`.
 * The first admin of a real deployment is created this way.
 */
const USAGE = `
usage: npm run user -- add --email <email> --name <name> [--role staff|admin] [--password <at least 10 characters>]
       npm run user -- list
       npm run user -- disable --email <email>

Console users in DATA_DIR's database (default var/), safe while the server runs.
Without --password, add prints a generated one.
`;

loadDotEnv();
const { values, positionals } = parseCli(
  USAGE,
  { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' } },
  true,
);
values.role ??= 'staff';
const command = positionals[0];
if (!command) fail(USAGE.trim());
if (!['add', 'list', 'disable'].includes(command)) fail(`unknown command "${command}"\n\n${USAGE.trim()}`);
const config = orFail(() => parseConfig());
if (!config.env.DATABASE_URL && !existsSync(path.join(config.dataDir, DB_FILE))) process.stderr.write(`${newDatabaseNote(config.dataDir)}\n`);
const store = await openConfiguredStore(config);
try {
  switch (command) {
    case 'add': {
      if (!values.email || !values.name) fail('add needs --email and --name');
      if (values.role !== 'staff' && values.role !== 'admin') fail('--role must be staff or admin');
      if (await store.users.byEmail(values.email as string)) fail(`a user ${values.email} exists`);
      const password = values.password ?? generatePassword();
      if (password.length < 10) fail('the password needs at least 10 characters');
      await store.users.create({ email: values.email as string, name: values.name as string, role: values.role as 'staff' | 'admin', password_hash: await hashPassword(password), now: new Date().toISOString() });
      process.stdout.write(`created ${values.role} ${values.email}${values.password ? '' : ` with password ${password}`}\n`);
      break;
    }
    case 'list':
      for (const u of await store.users.list()) process.stdout.write(`${u.id}\t${u.email}\t${u.role}\t${u.active ? 'active' : 'disabled'}\n`);
      break;
    case 'disable': {
      const user = values.email ? await store.users.byEmail(values.email) : undefined;
      if (!user) fail('disable needs --email of an existing user');
      await store.users.setActive(user!.id, false, new Date().toISOString());
      await store.users.deleteSessionsOf(user!.id);
      process.stdout.write(`disabled ${user!.email}\n`);
      break;
    }
  }
} finally {
  await store.close();
}
