import { parseArgs } from 'node:util';
import { loadDotEnv, parseConfig } from '../core/config.ts';
import { openStore } from '../data/store.ts';
import { generatePassword, hashPassword } from '../console/auth.ts';

/**
 * `npm run user -- add --email a@b --name "Ana" --role admin [--password …]`
 * (prints a generated password when none is given), `list`, `disable --email …`.
 * The first admin of a real deployment is created this way.
 */
loadDotEnv();
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', default: 'staff' }, password: { type: 'string' } },
});
const fail = (m: string): never => {
  process.stderr.write(`${m}\n`);
  process.exit(2);
};
const store = openStore(parseConfig().dataDir);
try {
  switch (positionals[0]) {
    case 'add': {
      if (!values.email || !values.name) fail('add needs --email and --name');
      if (values.role !== 'staff' && values.role !== 'admin') fail('--role must be staff or admin');
      if (store.users.byEmail(values.email as string)) fail(`a user ${values.email} exists`);
      const password = values.password ?? generatePassword();
      if (password.length < 10) fail('the password needs at least 10 characters');
      store.users.create({ email: values.email as string, name: values.name as string, role: values.role as 'staff' | 'admin', password_hash: await hashPassword(password), now: new Date().toISOString() });
      process.stdout.write(`created ${values.role} ${values.email}${values.password ? '' : ` with password ${password}`}\n`);
      break;
    }
    case 'list':
      for (const u of store.users.list()) process.stdout.write(`${u.id}\t${u.email}\t${u.role}\t${u.active ? 'active' : 'disabled'}\n`);
      break;
    case 'disable': {
      const user = values.email ? store.users.byEmail(values.email) : undefined;
      if (!user) fail('disable needs --email of an existing user');
      store.users.setActive(user!.id, false, new Date().toISOString());
      store.users.deleteSessionsOf(user!.id);
      process.stdout.write(`disabled ${user!.email}\n`);
      break;
    }
    default:
      fail('usage: npm run user -- add --email … --name … --role staff|admin [--password …] | list | disable --email …');
  }
} finally {
  store.close();
}
